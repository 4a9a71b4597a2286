"""Rows of a supplier's file in the batch drop zone, each with its 1-based row number, the
row's text as received (what the quarantine records) and the value to validate, or the
reason it cannot be read.

Formats, by the key's extension (FORMAT_BY_EXTENSION):
- CSV: RFC 4180 (quoted fields may hold commas, doubled quotes and newlines), a header
  row naming the contract's camelCase fields; the payload column holds JSON text, and an
  empty payload cell means no payload. The row number is the physical line the record
  starts on (the header is line 1).
- JSON: one object per line (blank lines skipped; row = line number), or one JSON array
  of objects (row = 1-based position in the array).
- Parquet: columns named like the contract's fields; Spark reads it (no Parquet reader in
  the standard library), and each record goes through `record_value`.
"""
import datetime

from . import jsjson
from .contract import js_trim

EVENT_FIELDS = ("eventId", "source", "entityId", "eventType", "occurredAt", "payload")
FORMAT_BY_EXTENSION = {".csv": "csv", ".json": "json", ".jsonl": "json", ".ndjson": "json", ".parquet": "parquet"}


class Row:
    __slots__ = ("row", "raw", "value", "reason")

    def __init__(self, row, raw, value=None, reason=None):
        self.row = row
        self.raw = raw
        self.value = value
        self.reason = reason

    def __repr__(self):
        return f"Row({self.row!r}, {self.raw!r}, value={self.value!r}, reason={self.reason!r})"


def file_format(key):
    """"csv", "json", "parquet", or None for a key with another extension."""
    lowered = key.lower()
    for extension, name in FORMAT_BY_EXTENSION.items():
        if lowered.endswith(extension):
            return name
    return None


def decode_text(data):
    """File bytes as text; bytes that are not UTF-8 survive as surrogate escapes, so each row keeps its exact bytes."""
    text = data.decode("utf-8", "surrogateescape")
    return text[1:] if text.startswith("\ufeff") else text


def row_bytes(raw):
    return raw.encode("utf-8", "surrogateescape")


def _is_utf8(raw):
    return not any(0xDC80 <= ord(char) <= 0xDCFF for char in raw)


def _not_json(error):
    return f"not JSON: {error}"


def _payload_from_text(text):
    """A CSV (or Parquet string) payload cell: empty means absent; otherwise JSON text."""
    if text is None or js_trim(text) == "":
        return None, None
    try:
        return jsjson.parse(text), None
    except jsjson.NotJson as error:
        return None, f"payload is not JSON: {error}"


# ---- CSV ------------------------------------------------------------------------------


class _CsvError(ValueError):
    pass


def _csv_records(text):
    """(line, raw, fields | None, error | None) per record; a malformed record is reported and skipped to the next line."""
    i, line, length = 0, 1, len(text)
    while i < length:
        start, start_line = i, line
        fields, field, quoted, in_quotes, error = [], [], False, False, None
        while i < length:
            char = text[i]
            if in_quotes:
                if char == '"' and i + 1 < length and text[i + 1] == '"':
                    field.append('"')
                    i += 2
                    continue
                if char == '"':
                    in_quotes = False
                    following = text[i + 1] if i + 1 < length else None
                    if following not in (None, ",", "\n", "\r"):
                        error = f"line {line}: text after a closing quote"
                        break
                else:
                    if char == "\n":
                        line += 1
                    field.append(char)
                i += 1
            elif char == '"':
                if field or quoted:
                    error = f"line {line}: a quote inside an unquoted field"
                    break
                in_quotes = quoted = True
                i += 1
            elif char == ",":
                fields.append("".join(field) if (quoted or field) else None)
                field, quoted = [], False
                i += 1
            elif char == "\n" or (char == "\r" and i + 1 < length and text[i + 1] == "\n"):
                break
            else:
                field.append(char)
                i += 1
        if error is None and in_quotes:
            error = f"line {line}: a quoted field is not closed"
        if error is not None:
            newline = text.find("\n", i)
            i = length if newline == -1 else newline
        raw = text[start:i]
        if i < length:
            i += 2 if text[i] == "\r" else 1
            line += 1
        if error is None:
            fields.append("".join(field) if (quoted or field) else None)
        if raw.strip("\r") == "" and error is None:
            continue
        yield start_line, raw, (None if error else fields), error


def csv_rows(text):
    """Rows of a CSV file (header first); see the module docstring."""
    records = _csv_records(text)
    header = next(records, None)
    if header is None:
        return []
    _, header_raw, header_fields, header_error = header
    if header_error is not None:
        return [Row(1, header_raw, reason=f"the header row is not CSV: {header_error}")]
    columns = [js_trim(name or "") for name in header_fields]
    rows = []
    for line, raw, fields, error in records:
        if not _is_utf8(raw):
            rows.append(Row(line, raw, reason="row is not UTF-8 text"))
        elif error is not None:
            rows.append(Row(line, raw, reason=f"not CSV: {error}"))
        elif len(fields) != len(columns):
            rows.append(Row(line, raw, reason=f"row has {len(fields)} fields, the header has {len(columns)}"))
        else:
            rows.append(_csv_row(line, raw, dict(zip(columns, fields))))
    return rows


def _csv_row(line, raw, cells):
    value = {name: ("" if cells[name] is None else cells[name]) for name in EVENT_FIELDS if name in cells and name != "payload"}
    payload, reason = _payload_from_text(cells.get("payload"))
    if reason is not None:
        return Row(line, raw, reason=reason)
    if payload is not None:
        value["payload"] = payload
    return Row(line, raw, value=value)


# ---- JSON -----------------------------------------------------------------------------


def json_rows(text):
    """Rows of a JSON file: a JSON array, or one value per non-blank line."""
    if js_trim(text).startswith("["):
        return _json_array_rows(text)
    rows = []
    for index, line in enumerate(text.split("\n")):
        raw = line[:-1] if line.endswith("\r") else line
        if js_trim(raw) == "":
            continue
        if not _is_utf8(raw):
            rows.append(Row(index + 1, raw, reason="row is not UTF-8 text"))
            continue
        try:
            rows.append(Row(index + 1, raw, value=jsjson.parse(raw)))
        except jsjson.NotJson as error:
            rows.append(Row(index + 1, raw, reason=_not_json(error)))
    return rows


def _json_array_rows(text):
    if not _is_utf8(text):
        return [Row(1, text, reason="file is not UTF-8 text")]
    try:
        values = jsjson.parse(text)
    except jsjson.NotJson as error:
        return [Row(1, text, reason=_not_json(error))]
    return [Row(index + 1, jsjson.stringify(value), value=value) for index, value in enumerate(values)]


def text_rows(key, data):
    """Rows of a CSV or JSON file's bytes (the key's extension decides)."""
    form = file_format(key)
    text = decode_text(data)
    if form == "csv":
        return csv_rows(text)
    if form == "json":
        return json_rows(text)
    raise ValueError(f"{key} is not a CSV or JSON file (extensions: {', '.join(FORMAT_BY_EXTENSION)})")


# ---- Parquet records (read by Spark) ----------------------------------------------------


def _plain(value):
    """A Parquet cell as JSON-shaped data; timestamps as ISO-8601 (naive ones are UTC: the jobs set spark.sql.session.timeZone=UTC)."""
    if isinstance(value, datetime.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=datetime.timezone.utc)
        return aware.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def record_value(row_number, record):
    """One Parquet record (a dict from Row.asDict(recursive=True)) as a Row; a string payload is JSON text as in CSV."""
    value = {name: _plain(record[name]) for name in EVENT_FIELDS if name in record and record[name] is not None}
    raw = jsjson.stringify(value)
    if isinstance(value.get("payload"), str):
        payload, reason = _payload_from_text(value["payload"])
        if reason is not None:
            return Row(row_number, raw, reason=reason)
        value.pop("payload")
        if payload is not None:
            value["payload"] = payload
    return Row(row_number, raw, value=value)
