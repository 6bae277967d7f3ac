"""``T(...)``: the few Java types pipelines call static methods on.

Spinnaker allows ``T()`` on a list of harmless types; spinui implements the pieces pipelines
use. Anything else is refused when the expression is parsed, so nothing is ever attempted.
"""

import datetime
import math
import re
import uuid

from .errors import ExpressionError
from .values import a_type, is_number, java_double_str, java_int, java_str, type_name

# Allowed by Spinnaker's sandbox but not implemented here: a clear message, not a guess.
SPINNAKER_ONLY = {
    "java.lang.Long", "java.lang.Double", "java.lang.Byte", "java.lang.Boolean", "java.util.Date",
    "java.text.SimpleDateFormat", "java.util.Random", "java.time.LocalDateTime",
    "java.time.DayOfWeek", "java.time.Instant", "java.time.temporal.ChronoUnit",
    "java.net.URLEncoder", "java.time.temporal.TemporalAdjusters",
}  # fmt: skip


class JavaType:
    """A type named in ``T(...)``; its static methods are the only thing it offers."""

    name = ""
    methods: dict = {}

    def call(self, method: str, args: list, ev, column):
        implementation = self.methods.get(method)
        if implementation is None:
            allowed = ", ".join(sorted(self.methods))
            raise ExpressionError(
                f"T({self.name}).{method}() is not supported; supported: {allowed}", column
            )
        low, high, function = implementation
        if not low <= len(args) <= high:
            raise ExpressionError(
                f"T({self.name}).{method}() takes {low if low == high else f'{low} or more'} "
                f"arguments, not {len(args)}",
                column,
            )
        return function(args, ev, column)


def _numbers(name: str, args: list, column) -> list:
    for arg in args:
        if not is_number(arg):
            raise ExpressionError(f"Math.{name}() needs numbers, not {a_type(arg)}", column)
    return args


def _widen(result, args: list):
    # Java picks Math.max(double, double) as soon as one argument is a double.
    return float(result) if any(type(arg) is float for arg in args) else result


def _math_round(args, ev, column):
    (value,) = _numbers("round", args, column)
    if not math.isfinite(value):
        raise ExpressionError("Math.round() needs a finite number", column)
    # Math.round rounds half up (toward positive infinity), unlike Python's round().
    return java_int(int((value + 0.5) // 1), column)


class _Math(JavaType):
    name = "java.lang.Math"
    methods = {
        "max": (2, 2, lambda args, ev, column: _widen(max(_numbers("max", args, column)), args)),
        "min": (2, 2, lambda args, ev, column: _widen(min(_numbers("min", args, column)), args)),
        "abs": (1, 1, lambda args, ev, column: abs(_numbers("abs", args, column)[0])),
        "round": (1, 1, _math_round),
    }


def _parse_int(args, ev, column):
    text = args[0]
    radix = args[1] if len(args) > 1 else 10
    if type(text) is not str or type(radix) is not int or not 2 <= radix <= 36:
        raise ExpressionError("Integer.parseInt() needs text and an optional radix 2-36", column)
    if not re.fullmatch(r"[+-]?[0-9A-Za-z]+", text):
        raise ExpressionError(f"Integer.parseInt(): '{text[:40]}' is not a whole number", column)
    try:
        value = int(text, radix)
    except ValueError:
        raise ExpressionError(
            f"Integer.parseInt(): '{text[:40]}' is not a whole number", column
        ) from None
    if not -(2**31) <= value < 2**31:
        raise ExpressionError(f"Integer.parseInt(): '{text[:40]}' is out of range", column)
    return value


class _Integer(JavaType):
    name = "java.lang.Integer"
    methods = {"parseInt": (1, 2, _parse_int), "valueOf": (1, 2, _parse_int)}


_FORMAT_SPEC = re.compile(r"%(-)?(0)?(\d+)?(?:\.(\d+))?([sdfxXbn%])")


def format_java(template: str, args: list, ev, column) -> str:
    """String.format for the specifiers pipelines use: %s %d %f %x %b %n %% with width."""
    pieces: list[str] = []
    next_arg = 0
    end = 0
    for match in _FORMAT_SPEC.finditer(template):
        _plain(template[end : match.start()], column)
        pieces.append(template[end : match.start()])
        end = match.end()
        left, zero, width, precision, conversion = match.groups()
        if conversion == "%":
            pieces.append("%")
            continue
        if conversion == "n":
            pieces.append("\n")
            continue
        if next_arg >= len(args):
            raise ExpressionError(f"String.format: no argument for '{match.group(0)}'", column)
        value = args[next_arg]
        next_arg += 1
        if width and int(width) > ev.limits.max_result_size:
            raise ExpressionError("String.format: the width is too large", column)
        if precision and int(precision) > 100:
            raise ExpressionError("String.format: the precision is too large", column)
        if conversion in "dxX":
            if type(value) is not int:
                raise ExpressionError(
                    f"String.format: '{match.group(0)}' needs a whole number, not "
                    f"{type_name(value)}",
                    column,
                )
            text = format(value, "d" if conversion == "d" else conversion)
        elif conversion == "f":
            if not is_number(value):
                raise ExpressionError(
                    f"String.format: '%f' needs a number, not {a_type(value)}", column
                )
            text = format(float(value), f".{precision or 6}f")
        elif conversion == "b":
            text = "false" if value is None or value is False else "true"
        else:
            ev.check_size(value, column)
            text = java_str(value)
            if precision:
                text = text[: int(precision)]
        if width:
            size = int(width)
            fill = "0" if zero and conversion in "dfxX" else " "
            text = text.ljust(size) if left else text.rjust(size, fill)
        ev.check_length(sum(map(len, pieces)) + len(text), column)
        pieces.append(text)
    _plain(template[end:], column)
    pieces.append(template[end:])
    return "".join(pieces)


def _plain(text: str, column) -> None:
    if "%" in text:
        raise ExpressionError(
            "String.format: only %s, %d, %f, %x, %b, %n and %% are supported, with optional "
            "width and precision",
            column,
        )


def _string_format(args, ev, column):
    template = args[0]
    if type(template) is not str:
        raise ExpressionError("String.format() needs a format text first", column)
    rest = args[1] if len(args) == 2 and type(args[1]) is list else args[1:]
    return format_java(template, rest, ev, column)


def _string_value_of(args, ev, column):
    ev.check_size(args[0], column)
    value = args[0]
    return java_double_str(value) if type(value) is float else java_str(value)


def _string_join(args, ev, column):
    from .methods import call_method

    return call_method("", "join", args, ev, column)


class _String(JavaType):
    name = "java.lang.String"
    methods = {
        "format": (1, 64, _string_format),
        "valueOf": (1, 1, _string_value_of),
        "join": (1, 64, _string_join),
    }


class _LocalDate(JavaType):
    name = "java.time.LocalDate"
    methods = {
        # A LocalDate's toString() is its ISO date; spinui hands back that text.
        "now": (
            0,
            0,
            lambda args, ev, column: datetime.datetime.now(datetime.UTC).date().isoformat(),
        ),
    }


class _UUID(JavaType):
    name = "java.util.UUID"
    methods = {"randomUUID": (0, 0, lambda args, ev, column: str(uuid.uuid4()))}


TYPES = {t.name: t() for t in (_Math, _Integer, _String, _LocalDate, _UUID)}


def resolve_type(qualified: str, column: int) -> JavaType:
    """The allowed type for ``T(qualified)``, or an ExpressionError saying why not."""
    full = qualified if "." in qualified else f"java.lang.{qualified}"
    if full in TYPES:
        return TYPES[full]
    supported = ", ".join(sorted(TYPES))
    if full in SPINNAKER_ONLY:
        raise ExpressionError(
            f"T({qualified}) is allowed by Spinnaker but not supported by spinui; "
            f"supported: {supported}",
            column,
        )
    raise ExpressionError(
        f"T({qualified}) is not allowed: expressions cannot reach Java or Python types; "
        f"supported: {supported}",
        column,
    )
