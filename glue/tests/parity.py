"""Parity helper for tests/glue-scripts.test.ts (not a unittest module): reads
{"events": [JSON text…], "bucket": "…", "manifests": [[[key, bytes]…]…]} on stdin
and prints what the Python port makes of it, for the TypeScript side to compare:
verdicts (the normalised event as JSON.stringify text, or the reason), the staged CSV
document of the good events' clean rows, and the manifests' text."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from batch_events import clean_rows, contract, curation, jsjson  # noqa: E402


def verdict(text):
    try:
        value = jsjson.parse(text)
    except jsjson.NotJson as error:
        return {"ok": False, "notJson": str(error)}
    ok, outcome = contract.validate_event(value)
    return {"ok": True, "event": jsjson.stringify(outcome)} if ok else {"ok": False, "reason": outcome}


def main():
    request = json.load(sys.stdin)
    verdicts = [verdict(text) for text in request["events"]]
    good = [contract.validate_event(jsjson.parse(text))[1] for text, result in zip(request["events"], verdicts) if result["ok"]]
    rows = [clean_rows.clean_row(event) for event in good]
    print(json.dumps({
        "verdicts": verdicts,
        "csv": curation.csv_document(rows),
        "manifests": [curation.copy_manifest(request["bucket"], [tuple(entry) for entry in entries]) for entries in request["manifests"]],
    }))


if __name__ == "__main__":
    main()
