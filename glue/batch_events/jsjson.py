"""JSON read and written the way JavaScript's JSON.parse / JSON.stringify do it.

The Lambda path validates and serialises events in TypeScript; the batch path must give
byte-identical text (the staged CSV's payload column, the event size bound), so the
differences between Python's json module and JavaScript's matter:
- numbers: every JSON number is an IEEE double in JavaScript (123456789012345678901
  loses digits, 1e400 is Infinity and is written as null, -0 is written as 0), and
  JSON.stringify writes numbers with Number::toString (1e+21, 1e-7, 100000000000000000000);
- NaN / Infinity literals are not JSON in JavaScript;
- key order: JavaScript objects list array-index keys ("0" … "4294967294") first, in
  ascending numeric order, then the other keys in insertion order;
- strings: JSON.stringify escapes lone surrogates (well-formed JSON.stringify) and
  writes every other non-ASCII character as it is.
"""
import json
import math
import re

_MAX_ARRAY_INDEX = 4294967294
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*", re.ASCII)


class NotJson(ValueError):
    """Text JSON.parse would refuse."""


def _refuse_constant(name):
    raise NotJson(f"{name} is not a JSON value")


def parse(text):
    """JSON.parse: numbers become floats (doubles), non-standard constants are refused."""
    try:
        return json.loads(text, parse_int=float, parse_constant=_refuse_constant)
    except NotJson:
        raise
    except (ValueError, RecursionError) as error:
        raise NotJson(str(error)) from error


def _is_array_index(key):
    return _ARRAY_INDEX.fullmatch(key) is not None and int(key) <= _MAX_ARRAY_INDEX


def ordered_keys(obj):
    """Property order of a JavaScript object built from these keys in this order."""
    keys = list(obj.keys())
    indexes = sorted((k for k in keys if _is_array_index(k)), key=int)
    return indexes + [k for k in keys if not _is_array_index(k)]


def number_text(value):
    """ECMAScript Number::toString for a finite double (non-finite → JSON null)."""
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers")
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return "null"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest round-tripping digits, as Number::toString requires.
    mantissa, _, exponent = repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    if frac_part == "0":
        frac_part = ""
    digits = (int_part + frac_part).lstrip("0")
    leading_zeros = len(int_part + frac_part) - len((int_part + frac_part).lstrip("0"))
    # n: the position of the decimal point relative to the digits (value = 0.digits × 10^n).
    n = len(int_part) - leading_zeros + (int(exponent) if exponent else 0)
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exponent_text = f"e+{e}" if e >= 0 else f"e-{-e}"
    if k == 1:
        return sign + digits + exponent_text
    return sign + digits[0] + "." + digits[1:] + exponent_text


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def string_text(value):
    out = ['"']
    for char in value:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def stringify(value, indent=None, _level=0):
    """JSON.stringify(value) or JSON.stringify(value, null, indent) for JSON-shaped values."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return number_text(value)
    if isinstance(value, str):
        return string_text(value)
    if isinstance(value, (list, tuple)):
        items = [stringify(item, indent, _level + 1) for item in value]
        return _container("[", "]", items, indent, _level)
    if isinstance(value, dict):
        items = [string_text(key) + (": " if indent else ":") + stringify(value[key], indent, _level + 1) for key in ordered_keys(value)]
        return _container("{", "}", items, indent, _level)
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _container(open_, close, items, indent, level):
    if not items:
        return open_ + close
    if not indent:
        return open_ + ",".join(items) + close
    inner = "\n" + " " * (indent * (level + 1))
    return open_ + inner + ("," + inner).join(items) + "\n" + " " * (indent * level) + close


def utf8_length(text):
    """Buffer.byteLength(text): lone surrogates count as U+FFFD (3 bytes)."""
    if _has_surrogate(text):
        text = "".join("\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else char for char in text)
    return len(text.encode("utf-8"))


def utf16_length(text):
    """JavaScript's String length: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _has_surrogate(text):
    return any(0xD800 <= ord(char) <= 0xDFFF for char in text)
