"""Glue 5 (Spark) batch-file job: reads the suppliers' files in s3://<raw>/batch/ (CSV,
JSON lines or array, Parquet), validates every row against the ingest event contract and
writes clean rows as Parquet to s3://<transformed>/batch/clean/year=/month=/day=/ and
refused rows to s3://<transformed>/quarantine/batch-file/ (beside every other path's quarantine)run=<run id>/ with their reasons.

Arguments: --JOB_NAME, --raw_bucket, --transformed_bucket, --run_id (the state machine's
execution name); --window_from/--window_to (YYYY-MM-DD, inclusive, on the event's
occurred_at UTC date; both empty or absent = the nightly incremental run). A backfill
runs with --job-bookmark-option job-bookmark-disable, so every file is read and only the
window's rows are kept.

Incremental input: job bookmarks track the S3 files a transformation_ctx read
(job.init … job.commit). The text files are listed through a bookmarked DynamicFrame
(its rows are not used, only the file names it attaches), then each new file is read
whole so every row keeps its number and exact text for the quarantine.
S3 connection options: https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-connect-s3-home.html
All logic lives in batch_events (shipped with --extra-py-files); this file only wires Spark.
"""
import json
import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

import batch_spark
from batch_events import batch_file
from batch_events.window import optional_arguments, parse_window

SOURCE_FILE_COLUMN = "__source_file"
TEXT_FORMATS = ["**.csv", "**.json", "**.jsonl", "**.ndjson"]


def drop_zone_frame(glue_context, raw_bucket, format_name, format_options, exclusions, context):
    return glue_context.create_dynamic_frame.from_options(
        connection_type="s3",
        connection_options={
            "paths": [f"s3://{raw_bucket}/{batch_file.DROP_ZONE_PREFIX}"],
            "recurse": True,
            "exclusions": json.dumps(exclusions),
            "attachFilename": SOURCE_FILE_COLUMN,
        },
        format=format_name,
        format_options=format_options,
        transformation_ctx=context,
    )


def main():
    args = getResolvedOptions(sys.argv, ["JOB_NAME", "raw_bucket", "transformed_bucket", "run_id"])
    window_args = optional_arguments(sys.argv, ["window_from", "window_to"])
    window = parse_window(window_args["window_from"], window_args["window_to"])  # a bad window fails before any work

    spark_context = SparkContext.getOrCreate()
    glue_context = GlueContext(spark_context)
    spark = glue_context.spark_session
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    raw, run_id = args["raw_bucket"], args["run_id"]
    function_version = f"{args['JOB_NAME']}:{run_id}"

    # One column per line (no separator or quote can split it): only the attached file names are used.
    listing = drop_zone_frame(glue_context, raw, "csv", {"withHeader": False, "separator": "\u0001", "quoteChar": -1}, ["**.parquet"], "batch_text_files")
    text_paths = [row[SOURCE_FILE_COLUMN] for row in listing.toDF().select(SOURCE_FILE_COLUMN).distinct().collect()] if listing.count() > 0 else []
    results = batch_spark.text_file_results(spark_context, raw, text_paths, window, function_version)

    parquet = drop_zone_frame(glue_context, raw, "parquet", {}, TEXT_FORMATS, "batch_parquet_files")
    if parquet.count() > 0:
        records = parquet.toDF().rdd.map(lambda row: (row[SOURCE_FILE_COLUMN], row.asDict(recursive=True)))
        results = results.union(batch_spark.parquet_file_results(records, raw, window, function_version))

    results = results.cache()
    # Quarantine first: once clean rows exist the pipeline moves on, and the refused rows should already be on record.
    quarantined = batch_spark.put_objects(batch_spark.quarantine_objects(results, run_id), args["transformed_bucket"], "application/x-ndjson")
    batch_spark.write_clean_parquet(batch_spark.clean_frame(spark, results), args["transformed_bucket"])
    print(f"batch-file: {len(text_paths)} text files, {len(quarantined)} quarantine objects")
    job.commit()


if __name__ == "__main__":
    main()
