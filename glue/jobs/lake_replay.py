"""EMR Serverless (Spark) entrypoint for heavy reprocessing: re-runs the batch-file
transformation over the raw lake's supplier files for a date range, into the transformed
zone's batch clean dataset (Parquet, year=/month=/day=), with the same batch_events
functions as the Glue job. Plain pyspark (no awsglue, no bookmarks): every file under the
prefixes is read and the rows whose occurred_at UTC date is in [--from, --to] are kept.

  spark-submit lake_replay.py --from 2026-01-01 --to 2026-01-31 --raw_bucket R \
      --transformed_bucket T --run_id replay-2026-01 [--prefixes batch/]
  (--py-files batch_events.zip, the zip the Glue jobs use)

Refused rows are written as JSON lines by Spark to
s3://<transformed>/quarantine/batch-file/run=<run id>/ (part files; the records are those the
Glue job writes). Run it, then curation with the same window, to restage the range.
"""
import argparse
import sys

from pyspark.sql import SparkSession
from pyspark.sql.functions import input_file_name

import batch_spark
from batch_events import quarantine, supplier_files
from batch_events.window import parse_window


def arguments(argv):
    parser = argparse.ArgumentParser(description="Replay the batch-file transformation over the raw lake for a date range.")
    parser.add_argument("--from", dest="window_from", required=True, help="first occurred_at date, YYYY-MM-DD")
    parser.add_argument("--to", dest="window_to", required=True, help="last occurred_at date, YYYY-MM-DD (inclusive)")
    parser.add_argument("--raw_bucket", required=True)
    parser.add_argument("--transformed_bucket", required=True)
    parser.add_argument("--run_id", required=True)
    parser.add_argument("--prefixes", default="batch/", help="comma-separated raw prefixes holding supplier files")
    return parser.parse_args(argv)


def main(argv):
    args = arguments(argv)
    window = parse_window(args.window_from, args.window_to)
    if window is None:
        raise SystemExit("--from and --to are required for a replay")
    spark = SparkSession.builder.appName(f"lake-replay-{args.run_id}").config("spark.sql.session.timeZone", "UTC").getOrCreate()
    context = spark.sparkContext
    raw = args.raw_bucket
    function_version = f"lake-replay:{args.run_id}"
    roots = [f"s3://{raw}/{prefix.strip()}" for prefix in args.prefixes.split(",") if prefix.strip()]

    paths = batch_spark.list_files(spark, roots)
    text_paths = [path for path in paths if supplier_files.file_format(path) in ("csv", "json")]
    parquet_paths = [path for path in paths if supplier_files.file_format(path) == "parquet"]
    results = batch_spark.text_file_results(context, raw, text_paths, window, function_version)
    if parquet_paths:
        parquet = spark.read.parquet(*parquet_paths).withColumn("__source_file", input_file_name())
        records = parquet.rdd.map(lambda row: (row["__source_file"], row.asDict(recursive=True)))
        results = results.union(batch_spark.parquet_file_results(records, raw, window, function_version))

    results = results.cache()
    quarantine_lines = results.flatMap(lambda result: result.quarantined).map(lambda record: quarantine.json_lines([record]).rstrip("\n"))
    quarantine_lines.saveAsTextFile(f"s3://{args.transformed_bucket}/{quarantine.QUARANTINE_PREFIX}{quarantine.STAGE}/run={args.run_id}/")
    batch_spark.write_clean_parquet(batch_spark.clean_frame(spark, results), args.transformed_bucket)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
