import unittest

from batch_events import supplier_files

HEADER = "eventId,source,entityId,eventType,occurredAt,payload\n"


def summary(rows):
    return [(row.row, row.raw, row.value, row.reason) for row in rows]


class CsvRowsTest(unittest.TestCase):
    def test_header_maps_columns_and_payload_is_json_text(self):
        text = 'source,eventId,entityId,eventType,occurredAt,payload,extra\norders,e1,o1,t,2026-01-02T03:04:05Z,"{""a"":[1,2]}",x\n'
        [row] = supplier_files.csv_rows(text)
        self.assertEqual(row.value, {"eventId": "e1", "source": "orders", "entityId": "o1", "eventType": "t", "occurredAt": "2026-01-02T03:04:05Z", "payload": {"a": [1.0, 2.0]}})
        self.assertEqual((row.row, row.raw), (2, 'orders,e1,o1,t,2026-01-02T03:04:05Z,"{""a"":[1,2]}",x'))

    def test_empty_payload_cell_means_no_payload_and_empty_cells_are_empty_text(self):
        [row] = supplier_files.csv_rows(HEADER + ",s,o,t,2026-01-02T03:04:05Z,\n")
        self.assertEqual(row.value, {"eventId": "", "source": "s", "entityId": "o", "eventType": "t", "occurredAt": "2026-01-02T03:04:05Z"})

    def test_quoted_newlines_keep_the_row_number_of_the_record_start(self):
        text = HEADER + 'e1,s,o,t,2026-01-02T03:04:05Z,"{""note"":\n""two, lines""}"\r\ne2,s,o,t,2026-01-02T03:04:05Z,\n'
        rows = supplier_files.csv_rows(text)
        self.assertEqual([row.row for row in rows], [2, 4])
        self.assertEqual(rows[0].value["payload"], {"note": "two, lines"})

    def test_bad_records_are_reported_and_the_rest_is_read(self):
        text = HEADER + '"e1"x,s\nonly,three,fields\ne3,s,o,t,2026-01-02T03:04:05Z,{not json}\n\ne4,s,o,t,2026-01-02T03:04:05Z,\ne"5,s\n"unclosed,s\n'
        rows = summary(supplier_files.csv_rows(text))
        self.assertEqual([(row, reason) for row, _, _, reason in rows], [
            (2, "not CSV: line 2: text after a closing quote"),
            (3, "row has 3 fields, the header has 6"),
            (4, "payload is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
            (6, None),
            (7, "not CSV: line 7: a quote inside an unquoted field"),
            (8, "not CSV: line 9: a quoted field is not closed"),
        ])
        self.assertEqual(rows[0][1], '"e1"x,s')

    def test_a_byte_order_mark_and_no_rows(self):
        self.assertEqual(supplier_files.text_rows("batch/x.csv", b"\xef\xbb\xbf" + HEADER.encode()), [])
        self.assertEqual(supplier_files.text_rows("batch/x.csv", b""), [])

    def test_bytes_that_are_not_utf8_are_kept_exactly(self):
        data = HEADER.encode() + b"e\xff1,s,o,t,2026-01-02T03:04:05Z,\n"
        [row] = supplier_files.text_rows("batch/x.csv", data)
        self.assertEqual(row.reason, "row is not UTF-8 text")
        self.assertEqual(supplier_files.row_bytes(row.raw), b"e\xff1,s,o,t,2026-01-02T03:04:05Z,")


class JsonRowsTest(unittest.TestCase):
    def test_json_lines_with_blank_lines_and_a_bad_line(self):
        rows = supplier_files.json_rows('{"eventId":"e1"}\r\n\n  \nnot json\n[1]\n')
        self.assertEqual([(row.row, row.value, row.reason) for row in rows], [
            (1, {"eventId": "e1"}, None),
            (4, None, "not JSON: Expecting value: line 1 column 1 (char 0)"),
            (5, [1.0], None),
        ])
        self.assertEqual(rows[0].raw, '{"eventId":"e1"}')

    def test_a_json_array_is_one_row_per_element(self):
        rows = supplier_files.json_rows(' [{"b":1,"a":2}, 3]')
        self.assertEqual([(row.row, row.raw) for row in rows], [(1, '{"b":1,"a":2}'), (2, "3")])

    def test_a_broken_array_is_one_refused_row(self):
        [row] = supplier_files.json_rows('[{"eventId":"e1"},')
        self.assertEqual((row.row, row.raw), (1, '[{"eventId":"e1"},'))
        self.assertTrue(row.reason.startswith("not JSON: "))


class FormatsTest(unittest.TestCase):
    def test_format_by_extension(self):
        self.assertEqual([supplier_files.file_format(key) for key in ["a.CSV", "a.json", "b/a.jsonl", "a.ndjson", "a.parquet", "a.txt", "a.csv.gz"]],
                         ["csv", "json", "json", "json", "parquet", None, None])

    def test_parquet_records(self):
        import datetime

        row = supplier_files.record_value(3, {"eventId": "e1", "occurredAt": datetime.datetime(2026, 1, 2, 3, 4, 5, 120000), "payload": '{"a":1}', "source": None, "count": 1})
        self.assertEqual(row.value, {"eventId": "e1", "occurredAt": "2026-01-02T03:04:05.120Z", "payload": {"a": 1.0}})
        self.assertEqual(row.raw, '{"eventId":"e1","occurredAt":"2026-01-02T03:04:05.120Z","payload":"{\\"a\\":1}"}')
        self.assertEqual(supplier_files.record_value(1, {"payload": "{"}).reason[:22], "payload is not JSON: E")


if __name__ == "__main__":
    unittest.main()
