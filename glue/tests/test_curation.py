import json
import random
import unittest

from batch_events import curation


def row(event_id, occurred_at, **overrides):
    base = {"event_id": event_id, "source": "s", "entity_id": "o", "event_type": "t", "occurred_at": occurred_at, "payload": "{}"}
    base.update(overrides)
    return base


class LatestPerEventTest(unittest.TestCase):
    def test_latest_occurred_at_wins(self):
        rows = [row("e1", "2026-01-02T00:00:00.000Z", payload='{"v":1}'), row("e1", "2026-01-03T00:00:00.000Z", payload='{"v":2}'), row("e0", "2026-01-01T00:00:00.000Z")]
        self.assertEqual([(r["event_id"], r["payload"]) for r in curation.latest_per_event(rows)], [("e0", "{}"), ("e1", '{"v":2}')])

    def test_ties_are_broken_the_same_whatever_the_order(self):
        tied = [row("e1", "2026-01-02T00:00:00.000Z", payload=f'{{"v":{n}}}', source=source) for n in range(3) for source in ("a", "b")]
        results = set()
        for seed in range(20):
            shuffled = tied[:]
            random.Random(seed).shuffle(shuffled)
            results.add(json.dumps(curation.latest_per_event(shuffled)))
            # As Spark's reduceByKey would combine them: any grouping gives the same row.
            left, right = shuffled[:2], shuffled[2:]
            combined = curation.later_of(curation.latest_per_event(left)[0], curation.latest_per_event(right)[0])
            results.add(json.dumps([combined]))
        self.assertEqual(len(results), 1)
        self.assertEqual(json.loads(results.pop())[0]["payload"], '{"v":2}')


class StagedTextTest(unittest.TestCase):
    def test_csv_quotes_every_field_and_doubles_quotes(self):
        line = curation.csv_line(row('e"1', "2026-01-02T00:00:00.000Z", payload='{"a":"x,y\\n"}'))
        self.assertEqual(line, '"e""1","s","o","t","2026-01-02T00:00:00.000Z","{""a"":""x,y\\n""}"\n')
        self.assertEqual(curation.csv_document([]), "event_id,source,entity_id,event_type,occurred_at,payload\n")

    def test_staged_files_by_date_in_parts(self):
        rows = [row(f"e{n}", f"2026-01-0{1 + n % 2}T00:00:00.000Z") for n in range(5)]
        files = curation.staged_files("run-1", rows, max_rows=2)
        self.assertEqual([key for key, _ in files], [
            "batch/events/event_date=2026-01-01/run-1-part-00000.csv",
            "batch/events/event_date=2026-01-01/run-1-part-00001.csv",
            "batch/events/event_date=2026-01-02/run-1-part-00000.csv",
        ])
        self.assertEqual(files[0][1].splitlines()[1:], [curation.csv_line(rows[0]).rstrip("\n"), curation.csv_line(rows[2]).rstrip("\n")])

    def test_manifest(self):
        files = [("batch/events/event_date=2026-01-02/r-part-00000.csv", "é\n"), ("batch/events/event_date=2026-01-01/r-part-00000.csv", "x")]
        entries = curation.manifest_entries(files)
        self.assertEqual(entries, [("batch/events/event_date=2026-01-01/r-part-00000.csv", 1), ("batch/events/event_date=2026-01-02/r-part-00000.csv", 3)])
        text = curation.copy_manifest("staged", entries)
        self.assertEqual(json.loads(text)["entries"][1], {"url": "s3://staged/batch/events/event_date=2026-01-02/r-part-00000.csv", "mandatory": True, "meta": {"content_length": 3}})
        self.assertTrue(text.endswith("}\n"))
        self.assertEqual(curation.copy_manifest("staged", []), '{\n  "entries": []\n}\n')


if __name__ == "__main__":
    unittest.main()
