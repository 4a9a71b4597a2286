import unittest

from batch_events.contract import MAX_EVENT_BYTES, js_trim, normalise_timestamp, validate_event


def event(**overrides):
    base = {"eventId": "evt-1", "source": "orders-api", "entityId": "order-42", "eventType": "order.created", "occurredAt": "2026-01-02T03:04:05Z", "payload": {"total": 12.5}}
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not ...}


class ValidateEventTest(unittest.TestCase):
    def test_accepts_and_normalises_a_good_event(self):
        ok, normalised = validate_event(event(source=" Orders-API ", eventId=" evt-1\n", occurredAt="2026-01-02T04:04:05+01:00"))
        self.assertTrue(ok)
        self.assertEqual(normalised, {"eventId": "evt-1", "source": "orders-api", "entityId": "order-42", "eventType": "order.created", "occurredAt": "2026-01-02T03:04:05.000Z", "payload": {"total": 12.5}})

    def test_payload_defaults_to_an_empty_object(self):
        self.assertEqual(validate_event(event(payload=...))[1]["payload"], {})
        self.assertEqual(validate_event(event(payload=None))[1]["payload"], {})

    def test_reasons(self):
        cases = [
            ([1], "event must be a JSON object"),
            (event(eventId=...), "eventId must be a string"),
            (event(eventId=7.0), "eventId must be a string"),
            (event(eventId="  "), "eventId must not be empty"),
            (event(eventId="x" * 129), "eventId is longer than 128 characters"),
            (event(eventId="a b"), "eventId has characters outside ^[A-Za-z0-9._:@/-]+$"),
            (event(eventId="a\n\n"), None),
            (event(source="-orders"), "source has characters outside ^[a-z0-9][a-z0-9._-]*$"),
            (event(source=True), "source must be a string"),
            (event(entityId="e" * 257), "entityId is longer than 256 characters"),
            (event(eventType="t" * 65), "eventType is longer than 64 characters"),
            (event(occurredAt="2026-01-02 03:04:05Z"), "occurredAt must be an ISO-8601 date-time with a time zone"),
            (event(occurredAt="2026-01-02T03:04:05"), "occurredAt must be an ISO-8601 date-time with a time zone"),
            (event(occurredAt="2026-13-02T03:04:05Z"), "occurredAt must be an ISO-8601 date-time with a time zone"),
            (event(payload=[1]), "payload must be a JSON object when present"),
            (event(payload="{}"), "payload must be a JSON object when present"),
            (event(payload={"blob": "x" * MAX_EVENT_BYTES}), f"event is larger than {MAX_EVENT_BYTES} bytes"),
        ]
        for value, reason in cases:
            with self.subTest(reason=reason):
                ok, outcome = validate_event(value)
                if reason is None:
                    self.assertTrue(ok, outcome)
                else:
                    self.assertEqual((ok, outcome), (False, reason))

    def test_trims_javascript_white_space_only(self):
        self.assertEqual(js_trim("\ufeff\u00a0x\u2028"), "x")
        self.assertEqual(js_trim("\x1cx"), "\x1cx")


class NormaliseTimestampTest(unittest.TestCase):
    def test_reads_dates_as_date_parse_does(self):
        cases = {
            "2026-01-02T03:04Z": "2026-01-02T03:04:00.000Z",
            "2026-01-02T03:04:05.123456789Z": "2026-01-02T03:04:05.123Z",
            "2026-02-30T00:00:00Z": "2026-03-02T00:00:00.000Z",
            "2026-01-31T24:00Z": "2026-02-01T00:00:00.000Z",
            "2026-01-01T00:00:00+23:59": "2025-12-31T00:01:00.000Z",
            "0000-01-01T00:00:00+01:00": "-000001-12-31T23:00:00.000Z",
            "9999-12-31T23:59:59-01:00": "+010000-01-01T00:59:59.000Z",
            "2026-01-01T24:00:00.5Z": None,
            "2026-01-01T23:60Z": None,
            "2026-01-00T00:00Z": None,
            "2026-01-01T00:00:00+24:00": None,
            "2026-01-01T00:00:00+00:60": None,
            "٢٠٢٦-01-01T00:00Z": None,
        }
        for text, expected in cases.items():
            with self.subTest(text=text):
                self.assertEqual(normalise_timestamp(text), expected)

    def test_refuses_non_strings(self):
        self.assertIsNone(normalise_timestamp(1767323045000.0))


if __name__ == "__main__":
    unittest.main()
