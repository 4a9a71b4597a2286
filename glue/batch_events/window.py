"""The run's window: `--window_from`/`--window_to`, YYYY-MM-DD, inclusive, on the event's
occurred_at UTC date (the clean dataset's partition). Both empty is the nightly
incremental run (job bookmarks choose the new input). Anything else is an error naming
the argument.
"""
import datetime
import re

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class WindowError(ValueError):
    pass


class Window:
    __slots__ = ("start", "end")

    def __init__(self, start, end):
        self.start = start
        self.end = end

    def contains(self, date_text):
        """date_text: an event date YYYY-MM-DD."""
        return self.start <= date_text <= self.end

    def __repr__(self):
        return f"Window({self.start!r}, {self.end!r})"


def _date(argument, value):
    if _DATE.fullmatch(value) is None:
        raise WindowError(f"{argument} must be a date YYYY-MM-DD (or empty for the incremental run), got {value!r}")
    try:
        datetime.date.fromisoformat(value)
    except ValueError as error:
        raise WindowError(f"{argument} is not a calendar date: {value!r} ({error})") from None
    return value


def parse_window(window_from, window_to):
    """None for the incremental run (both empty), else the inclusive Window."""
    window_from = (window_from or "").strip()
    window_to = (window_to or "").strip()
    if window_from == "" and window_to == "":
        return None
    if window_from == "" or window_to == "":
        missing = "--window_from" if window_from == "" else "--window_to"
        raise WindowError(f"{missing} is empty but the other bound is set: a backfill needs both --window_from and --window_to")
    start, end = _date("--window_from", window_from), _date("--window_to", window_to)
    if start > end:
        raise WindowError(f"--window_from ({start}) is after --window_to ({end})")
    return Window(start, end)


def in_window(window, date_text):
    return window is None or window.contains(date_text)


def optional_arguments(argv, names):
    """Glue may leave an empty-valued argument off the command line, so the window's
    arguments are read here rather than required through getResolvedOptions: `--name value`
    or `--name=value`, "" when absent."""
    values = {name: "" for name in names}
    for index, token in enumerate(argv):
        for name in names:
            if token == f"--{name}" and index + 1 < len(argv) and not argv[index + 1].startswith("--"):
                values[name] = argv[index + 1]
            elif token.startswith(f"--{name}="):
                values[name] = token.split("=", 1)[1]
    return values
