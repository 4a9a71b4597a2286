import hashlib
import unittest

from batch_events import batch_file, clean_rows, quarantine
from batch_events.window import parse_window

CSV = (
    "eventId,source,entityId,eventType,occurredAt,payload\n"
    'e1,Orders,o1,order.created,2026-01-02T23:30:00-01:00,"{""total"":12.5,""2"":1}"\n'
    "e2,orders,o2,order.created,not-a-date,\n"
    "e3,orders,o3,order.created,2026-01-01T00:00:00Z,\n"
).encode()


class TransformFileTest(unittest.TestCase):
    def test_clean_rows_and_quarantined_rows(self):
        result = batch_file.transform_file("raw", "batch/supplier/a.csv", CSV, None, "batch-file:run-1")
        self.assertEqual(result.clean, [
            {"event_id": "e1", "source": "orders", "entity_id": "o1", "event_type": "order.created", "occurred_at": "2026-01-03T00:30:00.000Z", "payload": '{"2":1,"total":12.5}'},
            {"event_id": "e3", "source": "orders", "entity_id": "o3", "event_type": "order.created", "occurred_at": "2026-01-01T00:00:00.000Z", "payload": "{}"},
        ])
        [record] = result.quarantined
        raw = b"e2,orders,o2,order.created,not-a-date,"
        self.assertEqual(record, {
            "version": 1,
            "id": hashlib.sha256(b"batch-file\nraw/batch/supplier/a.csv#3").hexdigest()[:32],
            "stage": "batch-file",
            "reason": "occurredAt must be an ISO-8601 date-time with a time zone",
            "payload": {"encoding": "utf8", "data": raw.decode(), "bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()},
            "origin": {"kind": "s3", "bucket": "raw", "key": "batch/supplier/a.csv", "row": 3},
            "functionVersion": "batch-file:run-1",
            "replayTo": "queue",
        })

    def test_the_window_keeps_the_rows_of_its_dates(self):
        result = batch_file.transform_file("raw", "batch/a.csv", CSV, parse_window("2026-01-03", "2026-01-03"), "v")
        self.assertEqual([row["event_id"] for row in result.clean], ["e1"])
        self.assertEqual((result.outside_window, len(result.quarantined)), (1, 1))

    def test_other_files_are_skipped_with_the_reason(self):
        self.assertEqual(batch_file.transform_file("raw", "batch/a.txt", b"x", None, "v").skipped, "not a .csv, .json, .jsonl, .ndjson or .parquet file")
        self.assertIn("Spark", batch_file.transform_file("raw", "batch/a.parquet", b"PAR1", None, "v").skipped)

    def test_a_binary_row_is_quarantined_as_base64(self):
        result = batch_file.transform_file("raw", "batch/a.jsonl", b'{"eventId":"\xff"}\n', None, "v")
        self.assertEqual(result.quarantined[0]["payload"]["encoding"], "base64")
        self.assertEqual(result.quarantined[0]["reason"], "row is not UTF-8 text")

    def test_parquet_records(self):
        records = [{"eventId": "e1", "source": "s", "entityId": "o", "eventType": "t", "occurredAt": "2026-01-02T03:04:05Z", "payload": '{"a":1}'}, {"eventId": "e2"}]
        result = batch_file.transform_parquet_records("raw", "batch/p.parquet", records, None, "v")
        self.assertEqual([row["payload"] for row in result.clean], ['{"a":1}'])
        self.assertEqual((result.quarantined[0]["origin"]["row"], result.quarantined[0]["reason"]), (2, "source must be a string"))

    def test_key_of_spark_paths(self):
        self.assertEqual(batch_file.key_of("s3://raw/batch/a b.csv", "raw"), "batch/a b.csv")
        self.assertEqual(batch_file.key_of("s3a://raw/batch/x.csv", "raw"), "batch/x.csv")
        with self.assertRaises(ValueError):
            batch_file.key_of("s3://other/batch/x.csv", "raw")


class LayoutTest(unittest.TestCase):
    def test_partition_of_a_row(self):
        self.assertEqual(clean_rows.partition_of({"occurred_at": "2026-01-02T03:04:05.000Z"}), {"year": "2026", "month": "01", "day": "02"})
        self.assertEqual(clean_rows.event_date("+010000-01-01T00:59:59.000Z"), "+010000-01-01")
        with self.assertRaises(ValueError):
            clean_rows.event_date("2026/01/02")

    def test_quarantine_key_per_run_and_file(self):
        self.assertEqual(quarantine.quarantine_key("run-1", "batch/supplier/a.v2.csv"), "quarantine/batch-file/run=run-1/supplier/a.v2.jsonl")
        self.assertEqual(quarantine.quarantine_key("run-1", "batch/noext"), "quarantine/batch-file/run=run-1/noext.jsonl")


if __name__ == "__main__":
    unittest.main()
