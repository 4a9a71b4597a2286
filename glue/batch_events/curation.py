"""Curation: the batch clean rows of a run → COPY-ready CSV in the staged layout and one
COPY manifest, text for text what functions/lake-staging.ts writes (`csvLine`,
`csvDocument`, `copyManifest`), so the warehouse loader and the aggregator read batch
units exactly like streaming ones.
"""
from . import clean_rows, jsjson

STAGED_COLUMNS = ("event_id", "source", "entity_id", "event_type", "occurred_at", "payload")
STAGED_EVENTS_PREFIX = "batch/events/"
# Rows per staged file: COPY loads a manifest's files in parallel, one per slice.
MAX_ROWS_PER_PART = 100_000


def precedence(row):
    """The order that picks the row kept for an event id: the latest occurred_at wins; on a
    tie the greatest (source, entity_id, event_type, payload) does, so the choice does not
    depend on the order rows arrive in (or on how Spark partitions them)."""
    return (row["occurred_at"], row["source"], row["entity_id"], row["event_type"], row["payload"])


def later_of(a, b):
    """Associative and commutative: a reduceByKey function."""
    return a if precedence(a) >= precedence(b) else b


def latest_per_event(rows):
    """One row per event_id, ordered by event_id."""
    kept = {}
    for row in rows:
        current = kept.get(row["event_id"])
        kept[row["event_id"]] = row if current is None else later_of(current, row)
    return [kept[event_id] for event_id in sorted(kept)]


def csv_field(value):
    return '"' + value.replace('"', '""') + '"'


def csv_line(row):
    """csvLine: every field quoted; the payload column is the payload's JSON text."""
    return ",".join(csv_field(row[column]) for column in STAGED_COLUMNS) + "\n"


def csv_document(rows):
    """csvDocument: the header row, then one line per row."""
    return ",".join(STAGED_COLUMNS) + "\n" + "".join(csv_line(row) for row in rows)


def staged_key(run_id, event_date, part):
    return f"{STAGED_EVENTS_PREFIX}event_date={event_date}/{run_id}-part-{part:05d}.csv"


def staged_files_for_date(run_id, event_date, rows, max_rows=MAX_ROWS_PER_PART):
    """[(key, csv text)] for one event date's rows (sorted by event_id, split into parts)."""
    ordered = sorted(rows, key=lambda row: row["event_id"])
    parts = [ordered[start:start + max_rows] for start in range(0, len(ordered), max_rows)]
    return [(staged_key(run_id, event_date, index), csv_document(part)) for index, part in enumerate(parts)]


def staged_files(run_id, rows, max_rows=MAX_ROWS_PER_PART):
    """[(key, csv text)] for deduplicated rows, dates ascending."""
    by_date = {}
    for row in rows:
        by_date.setdefault(clean_rows.event_date(row["occurred_at"]), []).append(row)
    files = []
    for event_date in sorted(by_date):
        files.extend(staged_files_for_date(run_id, event_date, by_date[event_date], max_rows))
    return files


def copy_manifest(bucket, entries):
    """copyManifest: entries [(key, bytes)] → the manifest text (JSON.stringify(…, null, 2) and a newline)."""
    document = {"entries": [{"url": f"s3://{bucket}/{key}", "mandatory": True, "meta": {"content_length": size}} for key, size in entries]}
    return jsjson.stringify(document, indent=2) + "\n"


def manifest_entries(files):
    """[(key, byte length)] of staged files, in key order."""
    return sorted((key, len(text.encode("utf-8"))) for key, text in files)
