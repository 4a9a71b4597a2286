"""Clean rows of the batch dataset: the lake's snake_case columns (like the streaming clean
rows of functions/lake-transform.ts `cleanRow`), with the payload as JSON text (exactly
JSON.stringify's text), and the Hive partition of a row by its occurred_at UTC date.
"""
import re

from . import jsjson

CLEAN_PREFIX = "batch/clean/"
CLEAN_COLUMNS = ("event_id", "source", "entity_id", "event_type", "occurred_at", "payload")
PARTITION_COLUMNS = ("year", "month", "day")
# toISOString writes years outside 0000-9999 with a sign and six digits.
_DATE = re.compile(r"([+-]\d{6}|\d{4})-(\d{2})-(\d{2})T", re.ASCII)


def clean_row(event):
    """The clean row of a validated (normalised) event."""
    return {
        "event_id": event["eventId"],
        "source": event["source"],
        "entity_id": event["entityId"],
        "event_type": event["eventType"],
        "occurred_at": event["occurredAt"],
        "payload": jsjson.stringify(event["payload"]),
    }


def event_date(occurred_at):
    """The UTC date of a normalised occurred_at, YYYY-MM-DD (the staged zone's event_date)."""
    match = _DATE.match(occurred_at)
    if match is None:
        raise ValueError(f"occurred_at {occurred_at!r} is not a normalised ISO-8601 UTC timestamp")
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}"


def partition_of(row):
    """{"year": "2026", "month": "01", "day": "02"} for the row's occurred_at date (strings: Hive paths keep the zeros)."""
    year, month, day = event_date(row["occurred_at"]).rsplit("-", 2)
    return {"year": year, "month": month, "day": day}


def partition_path(partition):
    return f"year={partition['year']}/month={partition['month']}/day={partition['day']}/"


def with_partition(row):
    """The row plus its partition columns: what the Spark job writes partitioned by year/month/day."""
    return {**row, **partition_of(row)}


def group_by_partition(rows):
    """[(partition path, rows)] in partition order, rows in input order."""
    groups = {}
    for row in rows:
        groups.setdefault(partition_path(partition_of(row)), []).append(row)
    return sorted(groups.items())


def local_clean_key(run_id, path):
    """Where the local runner writes a partition's rows (JSON lines; the Glue job writes Parquet part files there)."""
    return f"{CLEAN_PREFIX}{path}{run_id}-part-00000.jsonl"


def parse_clean_line(line):
    """A clean row written as a JSON line (the local runner's clean dataset)."""
    row = jsjson.parse(line)
    missing = [column for column in CLEAN_COLUMNS if not isinstance(row.get(column), str)]
    if missing:
        raise ValueError(f"clean row lacks text columns {missing}: {line[:200]}")
    return {column: row[column] for column in CLEAN_COLUMNS}
