"""The Spark steps the batch jobs (Glue) and the lake replay (EMR Serverless) share. Spark
only moves data here: every decision is a batch_events function mapped over it. Shipped
next to batch_events in the --extra-py-files zip (Glue) / --py-files (EMR)."""
from pyspark.sql.types import StringType, StructField, StructType

from batch_events import batch_file, clean_rows, curation, quarantine

CLEAN_SCHEMA = StructType([StructField(name, StringType(), False) for name in clean_rows.CLEAN_COLUMNS + clean_rows.PARTITION_COLUMNS])


def text_file_results(spark_context, bucket, paths, window, function_version):
    """RDD of FileResult for CSV/JSON files, each read whole (exact bytes, so rows keep their numbers and text)."""
    if not paths:
        return spark_context.emptyRDD()
    files = spark_context.binaryFiles(",".join(sorted(paths)))
    return files.map(lambda pair: batch_file.transform_file(bucket, batch_file.key_of(pair[0], bucket), bytes(pair[1]), window, function_version))


def parquet_file_results(records_by_path, bucket, window, function_version):
    """RDD of FileResult from an RDD of (path, record dict) read from Parquet files."""
    return records_by_path.groupByKey().map(
        lambda pair: batch_file.transform_parquet_records(bucket, batch_file.key_of(pair[0], bucket), list(pair[1]), window, function_version)
    )


def clean_frame(spark, results):
    """The clean rows of FileResults as a DataFrame with the partition columns."""
    rows = results.flatMap(lambda result: [clean_rows.with_partition(row) for row in result.clean])
    return spark.createDataFrame(rows.map(lambda row: tuple(row[name] for name in CLEAN_SCHEMA.names)), CLEAN_SCHEMA)


def write_clean_parquet(frame, transformed_bucket):
    """Parquet under batch/clean/year=/month=/day=, appended (curation keeps one row per event id)."""
    frame.write.mode("append").partitionBy(*clean_rows.PARTITION_COLUMNS).parquet(f"s3://{transformed_bucket}/{clean_rows.CLEAN_PREFIX}")


def quarantine_objects(results, run_id):
    """RDD of (key, JSON lines) — one quarantine object per input file that refused rows."""
    return results.filter(lambda result: result.quarantined).map(
        lambda result: (quarantine.quarantine_key(run_id, result.key), quarantine.json_lines(result.quarantined))
    )


def put_objects(objects, bucket, content_type):
    """Writes an RDD of (key, text) with boto3 from the executors; returns [(key, bytes)] on the driver.
    Objects take the bucket's default encryption (SSE-KMS)."""

    def put_partition(pairs):
        import boto3

        s3 = boto3.client("s3")
        for key, text in pairs:
            body = text.encode("utf-8")
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
            yield key, len(body)

    return objects.mapPartitions(put_partition).collect()


def staged_objects(clean_records, run_id, window):
    """RDD of (key, CSV text): clean rows in the window, one per event id, grouped by event date."""
    in_window = clean_records.filter(lambda row: window is None or window.contains(clean_rows.event_date(row["occurred_at"])))
    latest = in_window.map(lambda row: (row["event_id"], row)).reduceByKey(curation.later_of).values()
    by_date = latest.map(lambda row: (clean_rows.event_date(row["occurred_at"]), row)).groupByKey()
    return by_date.flatMap(lambda pair: curation.staged_files_for_date(run_id, pair[0], list(pair[1])))


def list_files(spark, roots):
    """Every file under the s3:// roots (Hadoop's FileSystem listing: names only, nothing is read)."""
    jvm = spark.sparkContext._jvm
    configuration = spark.sparkContext._jsc.hadoopConfiguration()
    paths = []
    for root in roots:
        path = jvm.org.apache.hadoop.fs.Path(root)
        files = path.getFileSystem(configuration).listFiles(path, True)
        while files.hasNext():
            paths.append(files.next().getPath().toString())
    return sorted(paths)
