"""Glue 5 (Spark) curation job: reads the batch clean dataset (Parquet under
s3://<transformed>/batch/clean/), keeps the run's window (or, incremental, the files the
job bookmark has not seen), one row per event_id (batch_events.curation.later_of), and
writes COPY-ready CSV to s3://<staged>/batch/events/event_date=YYYY-MM-DD/<run id>-part-NNNNN.csv,
then, last, the COPY manifest at --manifest_key (an empty unit still gets a manifest).

Arguments: --JOB_NAME, --transformed_bucket, --staged_bucket, --manifest_key, --run_id;
--window_from/--window_to as in the batch-file job; --catalog_database is accepted (the
clean dataset is read from S3 by path so the read does not depend on the crawler's table
name; the crawler keeps the catalog right for Athena).
The CSV text is built by batch_events.curation (csvLine/csvDocument's exact bytes), so
it is written as objects with boto3 rather than through Spark's CSV writer.
"""
import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

import batch_spark
from batch_events import clean_rows, curation
from batch_events.window import optional_arguments, parse_window


def main():
    args = getResolvedOptions(sys.argv, ["JOB_NAME", "transformed_bucket", "staged_bucket", "manifest_key", "run_id"])
    window_args = optional_arguments(sys.argv, ["window_from", "window_to"])
    window = parse_window(window_args["window_from"], window_args["window_to"])

    spark_context = SparkContext.getOrCreate()
    glue_context = GlueContext(spark_context)
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    clean = glue_context.create_dynamic_frame.from_options(
        connection_type="s3",
        connection_options={"paths": [f"s3://{args['transformed_bucket']}/{clean_rows.CLEAN_PREFIX}"], "recurse": True},
        format="parquet",
        transformation_ctx="batch_clean_rows",
    )
    staged_bucket = args["staged_bucket"]
    entries = []
    if clean.count() > 0:
        columns = clean_rows.CLEAN_COLUMNS
        records = clean.toDF().select(*columns).rdd.map(lambda row: {name: row[name] for name in columns})
        entries = batch_spark.put_objects(batch_spark.staged_objects(records, args["run_id"], window), staged_bucket, "text/csv")

    import boto3

    # Last: the manifest's existence means the unit is complete.
    manifest = curation.copy_manifest(staged_bucket, sorted(entries))
    boto3.client("s3").put_object(Bucket=staged_bucket, Key=args["manifest_key"], Body=manifest.encode("utf-8"), ContentType="application/json")
    print(f"curation: {len(entries)} staged objects, manifest s3://{staged_bucket}/{args['manifest_key']}")
    job.commit()


if __name__ == "__main__":
    main()
