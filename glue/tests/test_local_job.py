import json
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "local_job.py")


def run(*argv):
    return subprocess.run([sys.executable, SCRIPT, *argv], capture_output=True, text=True)


def write(root, relative, data):
    path = os.path.join(root, *relative.split("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)


def read_tree(root):
    found = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            with open(path, encoding="utf-8") as handle:
                found[os.path.relpath(path, root).replace(os.sep, "/")] = handle.read()
    return found


class LocalJobTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.input = os.path.join(self.dir.name, "in")
        self.output = os.path.join(self.dir.name, "out")

    def batch_file(self, *extra):
        return run("batch-file", "--raw_bucket", "raw", "--transformed_bucket", "lake", "--run_id", "r1", "--input_dir", self.input, "--output_dir", self.output,
                   "--catalog_database", "db", "--job-bookmark-option", "job-bookmark-enable", *extra)

    def test_batch_file_then_curation(self):
        write(self.input, "raw/batch/a.csv", b"eventId,source,entityId,eventType,occurredAt,payload\ne1,s,o,t,2026-01-02T03:04:05Z,\ne2,s,o,t,never,\n")
        write(self.input, "raw/batch/b.json", b'[{"eventId":"e1","source":"s","entityId":"o","eventType":"t","occurredAt":"2026-01-02T05:00:00Z","payload":{"v":2}}]')
        done = self.batch_file("--window_from", "", "--window_to", "")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(json.loads(done.stdout)["cleanRows"], 2)
        tree = read_tree(self.output)
        self.assertEqual(sorted(tree), ["lake/batch/clean/year=2026/month=01/day=02/r1-part-00000.jsonl", "lake/quarantine/batch-file/run=r1/a.jsonl"])
        self.assertEqual(json.loads(tree["lake/quarantine/batch-file/run=r1/a.jsonl"])["origin"]["row"], 3)

        curated = os.path.join(self.dir.name, "curated")
        write(self.input, "lake/batch/clean/year=2026/month=01/day=02/r1-part-00000.jsonl", tree["lake/batch/clean/year=2026/month=01/day=02/r1-part-00000.jsonl"].encode())
        done = run("curation", "--transformed_bucket", "lake", "--staged_bucket", "staged", "--run_id", "r1", "--manifest_key", "batch/manifests/r1.manifest",
                   "--window_from", "", "--window_to", "", "--input_dir", self.input, "--output_dir", curated)
        self.assertEqual(done.returncode, 0, done.stderr)
        staged = read_tree(curated)
        csv = staged["staged/batch/events/event_date=2026-01-02/r1-part-00000.csv"]
        self.assertEqual(csv, 'event_id,source,entity_id,event_type,occurred_at,payload\n"e1","s","o","t","2026-01-02T05:00:00.000Z","{""v"":2}"\n')
        manifest = json.loads(staged["staged/batch/manifests/r1.manifest"])
        self.assertEqual(manifest["entries"], [{"url": "s3://staged/batch/events/event_date=2026-01-02/r1-part-00000.csv", "mandatory": True, "meta": {"content_length": len(csv.encode())}}])

    def test_an_empty_curation_still_writes_a_manifest(self):
        os.makedirs(self.input)
        done = run("curation", "--transformed_bucket", "lake", "--staged_bucket", "staged", "--run_id", "r1", "--manifest_key", "m/r1.manifest", "--input_dir", self.input, "--output_dir", self.output)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(read_tree(self.output), {"staged/m/r1.manifest": '{\n  "entries": []\n}\n'})

    def test_parquet_is_refused_locally(self):
        write(self.input, "raw/batch/p.parquet", b"PAR1")
        done = self.batch_file()
        self.assertEqual(done.returncode, 2)
        self.assertIn("Parquet input cannot be read locally", done.stderr)
        self.assertIn("batch/p.parquet", done.stderr)
        self.assertFalse(os.path.exists(self.output))

    def test_a_bad_window_names_the_argument(self):
        os.makedirs(self.input)
        done = self.batch_file("--window_from", "2026-01-05", "--window_to", "2026-01-04")
        self.assertEqual(done.returncode, 2)
        self.assertIn("--window_from (2026-01-05) is after --window_to (2026-01-04)", done.stderr)


if __name__ == "__main__":
    unittest.main()
