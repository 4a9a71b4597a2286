"""The ingest event contract: an exact port of `validateIngestEvent` and
`normaliseTimestamp` in functions/ingestion-events.ts, so that "valid" means the same on
the batch path as on the stream and queue paths. Same rules, same order of checks, same
reason texts; tests/glue-scripts.test.ts runs both on the same fixtures and compares.

What JavaScript does implicitly is done explicitly here: String.prototype.trim's set of
white space, lengths in UTF-16 code units, ASCII-only \\d, a regex `$` that does not
match before a final newline, Date.parse's ISO reading (day 1-31 in any month rolls
over, 24:00 is the end of the day, fractions are truncated to milliseconds) and
Date.toISOString's output (including its six-digit signed years).
"""
import re

from . import jsjson

MAX_EVENT_BYTES = 350_000

# Sources of the patterns exactly as written in functions/ingestion-events.ts: the reason names them.
IDENTIFIER_SOURCE = "^[A-Za-z0-9._:@/-]+$"
SOURCE_SOURCE = "^[a-z0-9][a-z0-9._-]*$"
_IDENTIFIER = re.compile(r"[A-Za-z0-9._:@/-]+")
_SOURCE = re.compile(r"[a-z0-9][a-z0-9._-]*")
_ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})", re.ASCII)
_ISO_PARTS = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):(\d{2}))", re.ASCII
)

# ECMAScript WhiteSpace and LineTerminator code points: what String.prototype.trim removes.
_JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"

_MS_PER_DAY = 86_400_000


def js_trim(text):
    return text.strip(_JS_WHITESPACE)


def _invalid(reason):
    return (False, reason)


def _required_text(value, field, max_length, pattern, pattern_source):
    if not isinstance(value, str):
        return _invalid(f"{field} must be a string")
    text = js_trim(value)
    if len(text) == 0:
        return _invalid(f"{field} must not be empty")
    if jsjson.utf16_length(text) > max_length:
        return _invalid(f"{field} is longer than {max_length} characters")
    if pattern.fullmatch(text) is None:
        return _invalid(f"{field} has characters outside {pattern_source}")
    return text


def _days_from_civil(year, month, day):
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm); a day
    past the month's end rolls into the next month, as Date.parse does."""
    year -= 1 if month <= 2 else 0
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _parse_iso_millis(text):
    """Date.parse of text already matching the contract's ISO pattern; None where V8 gives NaN."""
    match = _ISO_PARTS.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    fraction = match.group(7) or ""
    millis = int((fraction + "000")[:3])
    if not (1 <= month <= 12 and 1 <= day <= 31 and minute <= 59 and second <= 59):
        return None
    if hour > 24 or (hour == 24 and (minute, second, millis) != (0, 0, 0)):
        return None
    offset = 0
    if match.group(8) is None:
        offset_hours, offset_minutes = int(match.group(10)), int(match.group(11))
        if offset_hours > 23 or offset_minutes > 59:
            return None
        offset = (offset_hours * 60 + offset_minutes) * 60_000 * (1 if match.group(9) == "+" else -1)
    day_number = _days_from_civil(year, month, day)
    return day_number * _MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000 + millis - offset


def _iso_string(millis):
    """Date.prototype.toISOString."""
    days, in_day = divmod(millis, _MS_PER_DAY)
    # Civil date from days since the epoch (Howard Hinnant's algorithm), valid for any year.
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    if 0 <= year <= 9999:
        year_text = f"{year:04d}"
    else:
        year_text = ("+" if year > 0 else "-") + f"{abs(year):06d}"
    seconds, ms = divmod(in_day, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{year_text}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{ms:03d}Z"


def normalise_timestamp(value):
    """normaliseTimestamp: an ISO-8601 date-time with a zone → UTC with milliseconds, else None."""
    if not isinstance(value, str):
        return None
    text = js_trim(value)
    if _ISO_DATE_TIME.fullmatch(text) is None:
        return None
    millis = _parse_iso_millis(text)
    return None if millis is None else _iso_string(millis)


def _is_plain_object(value):
    return isinstance(value, dict)


def validate_event(value):
    """validateIngestEvent: (True, event) with the normalised camelCase event, or (False, reason)."""
    if not _is_plain_object(value):
        return _invalid("event must be a JSON object")
    event_id = _required_text(value.get("eventId"), "eventId", 128, _IDENTIFIER, IDENTIFIER_SOURCE)
    if not isinstance(event_id, str):
        return event_id
    source_value = value.get("source")
    source_text = source_value.lower() if isinstance(source_value, str) else source_value
    source = _required_text(source_text, "source", 64, _SOURCE, SOURCE_SOURCE)
    if not isinstance(source, str):
        return source
    entity_id = _required_text(value.get("entityId"), "entityId", 256, _IDENTIFIER, IDENTIFIER_SOURCE)
    if not isinstance(entity_id, str):
        return entity_id
    event_type = _required_text(value.get("eventType"), "eventType", 64, _IDENTIFIER, IDENTIFIER_SOURCE)
    if not isinstance(event_type, str):
        return event_type
    occurred_at = normalise_timestamp(value.get("occurredAt"))
    if occurred_at is None:
        return _invalid("occurredAt must be an ISO-8601 date-time with a time zone")
    payload = value.get("payload")
    if payload is None:
        payload = {}
    if not _is_plain_object(payload):
        return _invalid("payload must be a JSON object when present")
    event = {"eventId": event_id, "source": source, "entityId": entity_id, "eventType": event_type, "occurredAt": occurred_at, "payload": payload}
    if jsjson.utf8_length(jsjson.stringify(event)) > MAX_EVENT_BYTES:
        return _invalid(f"event is larger than {MAX_EVENT_BYTES} bytes")
    return (True, event)
