"""Java/SpEL semantics over plain Python values: strings, equality, ordering, booleans, size.

Values are None, bool, int, float, str, list and dict, as JSON gives them. Python's bool is an
int, so every numeric check here excludes it first: in SpEL ``1 == true`` is false.
"""

import math
from decimal import Decimal

from .errors import ExpressionError, LimitExceeded

# Java's long: integer results beyond it are refused rather than wrapped (see java_int).
LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1


def is_number(value: object) -> bool:
    return type(value) in (int, float)


def type_name(value: object) -> str:
    """What a user would call the value's type, for error messages."""
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "list",
        dict: "map",
    }.get(type(value), "value")


def a_type(value: object) -> str:
    """``a string``, ``an integer``: the type with its article, for messages."""
    name = type_name(value)
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def java_int(value: int, column: int | None) -> int:
    if LONG_MIN <= value <= LONG_MAX:
        return value
    raise ExpressionError("integer overflow: the result does not fit in 64 bits", column)


def java_float(value: float, column: int | None) -> float:
    if math.isfinite(value):
        return value
    raise ExpressionError("the result is not a finite number", column)


def java_double_str(value: float) -> str:
    """Double.toString: 1.0, 0.001, 1.0E7, 1.5E-4."""
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    digits_text = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) - 1 + exponent
    mantissa = digits_text[0] + "." + (digits_text[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{power}"


def java_str(value: object) -> str:
    """String.valueOf(value): what ``'x' + value`` and ``toString()`` give in SpEL."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is float:
        return java_double_str(value)
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    if type(value) is list:
        return "[" + ", ".join(java_str(element) for element in value) + "]"
    if type(value) is dict:
        return "{" + ", ".join(f"{java_str(k)}={java_str(v)}" for k, v in value.items()) + "}"
    raise ExpressionError(f"cannot convert {a_type(value)} to text")


def template_str(value: object) -> str:
    """How Spring turns a value into text inside a template: lists join with commas."""
    if type(value) is list:
        return ",".join(template_str(element) for element in value)
    return java_str(value)


def java_equals(left: object, right: object, scope) -> bool:
    """SpEL ``==``: numbers by value, everything else by Java equals()."""
    if is_number(left) and is_number(right):
        return left == right
    return _deep_equals(left, right, scope)


def _deep_equals(left: object, right: object, scope) -> bool:
    scope.tick()
    if type(left) is not type(right):
        return False
    if type(left) is list:
        return len(left) == len(right) and all(
            _deep_equals(a, b, scope) for a, b in zip(left, right, strict=True)
        )
    if type(left) is dict:
        return left.keys() == right.keys() and all(
            _deep_equals(value, right[key], scope) for key, value in left.items()
        )
    return left == right


def java_compare(left: object, right: object, column: int | None) -> int:
    """SpEL's StandardTypeComparator: numbers, strings, booleans; null sorts first."""
    if left is None or right is None:
        return (left is not None) - (right is not None)
    if is_number(left) and is_number(right):
        return (left > right) - (left < right)
    if type(left) is type(right) and type(left) in (str, bool):
        return (left > right) - (left < right)
    raise ExpressionError(f"cannot compare {a_type(left)} with {a_type(right)}", column)


_TRUE_WORDS = {"true", "on", "yes", "1"}
_FALSE_WORDS = {"false", "off", "no", "0"}


def to_boolean(value: object, column: int | None, what: str = "condition") -> bool:
    """A boolean as SpEL converts one: booleans, and the strings Spring reads as booleans."""
    if type(value) is bool:
        return value
    if type(value) is str and value.strip().lower() in _TRUE_WORDS:
        return True
    if type(value) is str and value.strip().lower() in _FALSE_WORDS:
        return False
    shown = repr(value) if type(value) is str else type_name(value)
    raise ExpressionError(f"the {what} must be true or false, not {shown}", column)


def measure(value: object, limit: int, column: int | None = None) -> int:
    """Characters plus elements in ``value``, refusing once it passes ``limit``.

    Shared sublists count each time they appear, as they would once written out as JSON.
    """
    total = 0
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str:
            total += len(item)
        elif kind is list or kind is dict:
            total += 1 + len(item)
        else:
            total += 1
        if total > limit:
            raise LimitExceeded(
                f"the value is too large (more than {limit} characters and elements)", column
            )
        if kind is list:
            pending.extend(item)
        elif kind is dict:
            pending.extend(item.keys())
            pending.extend(item.values())
    return total
