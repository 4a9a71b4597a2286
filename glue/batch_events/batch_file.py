"""The batch-file transformation of one supplier file: every row validated against the
ingest event contract; good rows cleaned (and kept when their occurred_at date is in the
run's window), refused rows quarantined with their reason. A pure function of the file's
key and bytes (or Parquet records), which the Glue job, the EMR replay and the local
runner all map their input through.
"""
from . import clean_rows, contract, quarantine, supplier_files

DROP_ZONE_PREFIX = "batch/"


class FileResult:
    __slots__ = ("key", "clean", "quarantined", "outside_window", "skipped")

    def __init__(self, key, clean=None, quarantined=None, outside_window=0, skipped=None):
        self.key = key
        self.clean = clean if clean is not None else []
        self.quarantined = quarantined if quarantined is not None else []
        self.outside_window = outside_window
        self.skipped = skipped

    def summary(self):
        return {"key": self.key, "clean": len(self.clean), "quarantined": len(self.quarantined), "outsideWindow": self.outside_window, "skipped": self.skipped}


def is_drop_zone_file(key):
    """A supplier's file: under batch/, not a folder marker."""
    return key.startswith(DROP_ZONE_PREFIX) and not key.endswith("/")


def transform_rows(bucket, key, rows, window, function_version):
    """Rows (supplier_files.Row) of one file → FileResult."""
    result = FileResult(key)
    for row in rows:
        reason = row.reason
        if reason is None:
            ok, outcome = contract.validate_event(row.value)
            if ok:
                clean = clean_rows.clean_row(outcome)
                if window is None or window.contains(clean_rows.event_date(clean["occurred_at"])):
                    result.clean.append(clean)
                else:
                    result.outside_window += 1
                continue
            reason = outcome
        result.quarantined.append(quarantine.quarantined_record(bucket, key, row.row, supplier_files.row_bytes(row.raw), reason, function_version))
    return result


def transform_file(bucket, key, data, window, function_version):
    """A CSV or JSON file's bytes → FileResult; a file of another type is skipped with the reason (it stays in the drop zone)."""
    form = supplier_files.file_format(key)
    if form not in ("csv", "json"):
        kind = "Parquet is read by Spark, not here" if form == "parquet" else "not a .csv, .json, .jsonl, .ndjson or .parquet file"
        return FileResult(key, skipped=kind)
    return transform_rows(bucket, key, supplier_files.text_rows(key, data), window, function_version)


def transform_parquet_records(bucket, key, records, window, function_version):
    """Parquet records of one file (dicts, in the order read) → FileResult."""
    rows = [supplier_files.record_value(index + 1, record) for index, record in enumerate(records)]
    return transform_rows(bucket, key, rows, window, function_version)


def key_of(path, bucket):
    """The object key of a Spark input path (s3://bucket/key, s3a://… or s3n://…)."""
    for scheme in ("s3://", "s3a://", "s3n://"):
        prefix = f"{scheme}{bucket}/"
        if path.startswith(prefix):
            return path[len(prefix):]
    raise ValueError(f"{path} is not an object of bucket {bucket}")
