"""Quarantine records of the batch-file stage: the shape of `quarantinedRecord` in
functions/quarantine.ts (version 1, a stable id from the stage and the row's origin, the
reason, the row's exact bytes, its S3 origin with the 1-based row), written as JSON lines
like the Lambda path's quarantine objects.
"""
import base64
import hashlib

from . import jsjson

STAGE = "batch-file"
QUARANTINE_PREFIX = "quarantine/"
# A fixed batch row goes back as an ingest event through the queue path (ReplayTarget "queue").
REPLAY_TO = "queue"


def short_hash(text, length=32):
    """shortHash in functions/lake-layout.ts."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def quarantine_payload(data):
    """quarantinePayload: utf8 when the bytes are UTF-8 text, base64 otherwise."""
    try:
        text = data.decode("utf-8")
        encoding, recorded = "utf8", text
    except UnicodeDecodeError:
        encoding, recorded = "base64", base64.b64encode(data).decode("ascii")
    return {"encoding": encoding, "data": recorded, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def quarantined_record(bucket, key, row, data, reason, function_version):
    """quarantinedRecord("batch-file", {kind: "s3", bucket, key, row}, bytes, reason, functionVersion, "queue")."""
    origin = {"kind": "s3", "bucket": bucket, "key": key, "row": row}
    return {
        "version": 1,
        "id": short_hash(f"{STAGE}\n{bucket}/{key}#{row}"),
        "stage": STAGE,
        "reason": reason,
        "payload": quarantine_payload(data),
        "origin": origin,
        "functionVersion": function_version,
        "replayTo": REPLAY_TO,
    }


def json_lines(values):
    """jsonLines in functions/lake-objects.ts: one JSON.stringify per line, each ending in a newline."""
    return "".join(jsjson.stringify(value) + "\n" for value in values)


def _without_extension(key):
    dot = key.rfind(".")
    return key[:dot] if dot > key.rfind("/") else key


def quarantine_key(run_id, source_key):
    """`quarantine/batch-file/run=<run id>/<source key without batch/ and extension>.jsonl`: one object per input file and run."""
    relative = source_key[len("batch/"):] if source_key.startswith("batch/") else source_key
    return f"{QUARANTINE_PREFIX}{STAGE}/run={run_id}/{_without_extension(relative)}.jsonl"
