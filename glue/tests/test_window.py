import unittest

from batch_events.window import WindowError, in_window, optional_arguments, parse_window


class WindowTest(unittest.TestCase):
    def test_both_empty_is_the_incremental_run(self):
        self.assertIsNone(parse_window("", ""))
        self.assertIsNone(parse_window(None, " "))
        self.assertTrue(in_window(None, "1999-01-01"))

    def test_inclusive_bounds(self):
        window = parse_window("2026-01-02", "2026-01-04")
        self.assertEqual([window.contains(day) for day in ["2026-01-01", "2026-01-02", "2026-01-04", "2026-01-05"]], [False, True, True, False])
        self.assertTrue(parse_window("2026-01-02", "2026-01-02").contains("2026-01-02"))

    def test_errors_name_the_argument(self):
        cases = [
            (("2026-1-2", "2026-01-03"), "--window_from must be a date YYYY-MM-DD"),
            (("2026-01-02", "tomorrow"), "--window_to must be a date YYYY-MM-DD"),
            (("2026-02-30", "2026-03-01"), "--window_from is not a calendar date"),
            (("2026-01-05", "2026-01-04"), "--window_from (2026-01-05) is after --window_to (2026-01-04)"),
            (("", "2026-01-04"), "--window_from is empty but the other bound is set"),
            (("2026-01-04", ""), "--window_to is empty but the other bound is set"),
        ]
        for (start, end), message in cases:
            with self.subTest(start=start, end=end):
                with self.assertRaises(WindowError) as raised:
                    parse_window(start, end)
                self.assertIn(message, str(raised.exception))

    def test_optional_arguments_from_a_glue_command_line(self):
        argv = ["script.py", "--JOB_NAME", "j", "--window_from", "", "--window_to=2026-01-02", "--run_id", "r"]
        self.assertEqual(optional_arguments(argv, ["window_from", "window_to"]), {"window_from": "", "window_to": "2026-01-02"})
        self.assertEqual(optional_arguments(["s", "--window_from", "--run_id", "r"], ["window_from", "window_to"]), {"window_from": "", "window_to": ""})


if __name__ == "__main__":
    unittest.main()
