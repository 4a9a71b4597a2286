import unittest

from batch_events import jsjson


class NumberTextTest(unittest.TestCase):
    def test_writes_numbers_as_javascript_does(self):
        cases = {1.0: "1", 100.0: "100", 1e20: "100000000000000000000", 1e21: "1e+21", 1e-7: "1e-7", 1e-6: "0.000001", 0.1: "0.1",
                 -0.0: "0", 1.5e300: "1.5e+300", 5e-324: "5e-324", 123.456: "123.456", -2.5: "-2.5", 123456789012345680000.0: "123456789012345680000"}
        for value, text in cases.items():
            with self.subTest(value=value):
                self.assertEqual(jsjson.number_text(value), text)

    def test_non_finite_numbers_are_null(self):
        self.assertEqual(jsjson.stringify([float("inf"), float("nan")]), "[null,null]")


class ParseAndStringifyTest(unittest.TestCase):
    def test_integers_are_doubles(self):
        self.assertEqual(jsjson.stringify(jsjson.parse("12345678901234567890")), "12345678901234567000")

    def test_array_index_keys_come_first(self):
        text = '{"b":1,"10":2,"2":3,"01":4,"4294967295":5,"a":6}'
        self.assertEqual(jsjson.stringify(jsjson.parse(text)), '{"2":3,"10":2,"b":1,"01":4,"4294967295":5,"a":6}')

    def test_refuses_what_json_parse_refuses(self):
        for text in ["NaN", "[Infinity]", "{'a':1}", "", "{\"a\":1,}"]:
            with self.subTest(text=text):
                with self.assertRaises(jsjson.NotJson):
                    jsjson.parse(text)

    def test_escapes_control_characters_and_lone_surrogates(self):
        self.assertEqual(jsjson.stringify('a"\\\n\u0001\ud800\u2028é'), '"a\\"\\\\\\n\\u0001\\ud800\u2028é"')

    def test_indented_output_matches_json_stringify_with_two_spaces(self):
        self.assertEqual(jsjson.stringify({"a": [1.0, {"b": True}], "c": []}, indent=2), '{\n  "a": [\n    1,\n    {\n      "b": true\n    }\n  ],\n  "c": []\n}')

    def test_lengths_count_as_javascript_does(self):
        self.assertEqual(jsjson.utf16_length("a😀"), 3)
        self.assertEqual(jsjson.utf8_length("é\ud800"), 5)


if __name__ == "__main__":
    unittest.main()
