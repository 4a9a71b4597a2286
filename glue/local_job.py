#!/usr/bin/env python3
"""Runs a batch Glue job's logic on local directories, with the Glue job's argument names:

  python3 glue/local_job.py batch-file --raw_bucket R --transformed_bucket T --run_id X \
      --window_from "" --window_to "" --input_dir IN --output_dir OUT
  python3 glue/local_job.py curation --transformed_bucket T --staged_bucket S --run_id X \
      --manifest_key batch/manifests/X.manifest --window_from "" --window_to "" --input_dir IN --output_dir OUT

IN and OUT mirror S3 as <dir>/<bucket>/<key>: the caller (local/glue-jobs.ts) downloads
the job's input prefix into IN and uploads everything under OUT to the same keys.

What differs from the Glue jobs, and why:
- Clean rows are written as JSON lines (`<run id>-part-00000.jsonl` in each
  year=/month=/day= partition), not Parquet: writing Parquet needs pyarrow or Spark, and
  neither is here. Same rows, same columns; only the file format differs.
- Parquet inputs are refused with an error (exit 2): no Parquet reader in the standard library.
- There are no job bookmarks: an incremental run (empty window) reads every input file.
Other Glue arguments (--catalog_database, --job-bookmark-option, …) are accepted and ignored.
Prints a JSON summary on stdout; errors go to stderr with exit status 2.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from batch_events import batch_file, clean_rows, curation, quarantine, supplier_files  # noqa: E402
from batch_events.window import WindowError, parse_window  # noqa: E402


class LocalJobError(Exception):
    pass


def _files_under(root, bucket, prefix):
    """(key, path) of every file under <root>/<bucket>/<prefix>, in key order."""
    base = os.path.join(root, bucket)
    found = []
    for directory, _, names in os.walk(os.path.join(base, prefix)):
        for name in names:
            path = os.path.join(directory, name)
            found.append((os.path.relpath(path, base).replace(os.sep, "/"), path))
    return sorted(found)


def _write(root, bucket, key, text):
    path = os.path.join(root, bucket, *key.split("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def _refuse_parquet(keys):
    parquet = [key for key in keys if supplier_files.file_format(key) == "parquet"]
    if parquet:
        raise LocalJobError(
            f"Parquet input cannot be read locally (no Parquet reader in Python's standard library; the Glue job reads it with Spark): {', '.join(parquet)}"
        )


def run_batch_file(args):
    window = parse_window(args.window_from, args.window_to)
    files = [(key, path) for key, path in _files_under(args.input_dir, args.raw_bucket, batch_file.DROP_ZONE_PREFIX) if batch_file.is_drop_zone_file(key)]
    _refuse_parquet([key for key, _ in files])
    function_version = f"{args.JOB_NAME}:{args.run_id}"
    results, clean = [], []
    for key, path in files:
        with open(path, "rb") as handle:
            result = batch_file.transform_file(args.raw_bucket, key, handle.read(), window, function_version)
        results.append(result)
        clean.extend(result.clean)
        if result.quarantined:
            _write(args.output_dir, args.transformed_bucket, quarantine.quarantine_key(args.run_id, key), quarantine.json_lines(result.quarantined))
    written = []
    for path, rows in clean_rows.group_by_partition(clean):
        key = clean_rows.local_clean_key(args.run_id, path)
        _write(args.output_dir, args.transformed_bucket, key, quarantine.json_lines(rows))
        written.append(key)
    return {
        "job": "batch-file",
        "files": [result.summary() for result in results],
        "cleanRows": len(clean),
        "quarantinedRows": sum(len(result.quarantined) for result in results),
        "cleanObjects": written,
    }


def run_curation(args):
    window = parse_window(args.window_from, args.window_to)
    if not args.manifest_key.strip():
        raise LocalJobError("--manifest_key must name the manifest's key, e.g. batch/manifests/<run id>.manifest")
    files = _files_under(args.input_dir, args.transformed_bucket, clean_rows.CLEAN_PREFIX)
    _refuse_parquet([key for key, _ in files])
    rows = []
    for key, path in files:
        with open(path, encoding="utf-8") as handle:
            rows.extend(clean_rows.parse_clean_line(line) for line in handle.read().split("\n") if line.strip())
    in_window = [row for row in rows if window is None or window.contains(clean_rows.event_date(row["occurred_at"]))]
    kept = curation.latest_per_event(in_window)
    staged = curation.staged_files(args.run_id, kept)
    for key, text in staged:
        _write(args.output_dir, args.staged_bucket, key, text)
    # Last: the manifest's existence means the unit is complete.
    _write(args.output_dir, args.staged_bucket, args.manifest_key, curation.copy_manifest(args.staged_bucket, curation.manifest_entries(staged)))
    return {"job": "curation", "cleanRows": len(in_window), "stagedRows": len(kept), "stagedObjects": [key for key, _ in staged], "manifestKey": args.manifest_key}


def _parser():
    parser = argparse.ArgumentParser(description="Run a batch Glue job's logic on local directories.")
    jobs = parser.add_subparsers(dest="job", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--run_id", required=True)
    common.add_argument("--window_from", default="")
    common.add_argument("--window_to", default="")
    common.add_argument("--transformed_bucket", required=True)
    common.add_argument("--input_dir", required=True)
    common.add_argument("--output_dir", required=True)
    batch = jobs.add_parser("batch-file", parents=[common])
    batch.add_argument("--raw_bucket", required=True)
    batch.add_argument("--JOB_NAME", default="batch-file")
    curate = jobs.add_parser("curation", parents=[common])
    curate.add_argument("--staged_bucket", required=True)
    curate.add_argument("--manifest_key", required=True)
    curate.add_argument("--JOB_NAME", default="curation")
    return parser


def main(argv):
    args, _ignored = _parser().parse_known_args(argv)
    try:
        summary = run_batch_file(args) if args.job == "batch-file" else run_curation(args)
    except (WindowError, LocalJobError) as error:
        print(f"{args.job}: {error}", file=sys.stderr)
        return 2
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
