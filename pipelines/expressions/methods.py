"""The methods an expression may call on strings, lists, maps, numbers and booleans.

Each is implemented here with Java's meaning; a name not in these tables is refused, so
``getClass()``, ``__class__`` or anything else a host object might have is never reached.
"""

from .errors import ExpressionError, LimitExceeded
from .values import a_type, java_equals, java_str


def _arity(name: str, args: list, low: int, high: int, column) -> None:
    if not low <= len(args) <= high:
        wanted = str(low) if low == high else f"{low} to {high}"
        raise ExpressionError(
            f"{name}() takes {wanted} argument{'s' if high != 1 else ''}, not {len(args)}", column
        )


def _text(name: str, value, column, position: str = "argument") -> str:
    if type(value) is not str:
        raise ExpressionError(f"{name}() needs text as its {position}, not {a_type(value)}", column)
    return value


def _whole(name: str, value, column) -> int:
    if type(value) is not int:
        raise ExpressionError(f"{name}() needs a whole number, not {a_type(value)}", column)
    return value


def _java_trim(text: str) -> str:
    # Java's trim() removes characters up to U+0020, no other whitespace.
    return text.strip("".join(chr(code) for code in range(0x21)))


def _substring(text: str, args: list, column) -> str:
    begin = _whole("substring", args[0], column)
    end = _whole("substring", args[1], column) if len(args) > 1 else len(text)
    if not 0 <= begin <= end <= len(text):
        raise ExpressionError(
            f"substring({begin}, {end}) is out of range for text of length {len(text)}", column
        )
    return text[begin:end]


def _index_of(text: str, args: list, column) -> int:
    needle = _text("indexOf", args[0], column)
    start = _whole("indexOf", args[1], column) if len(args) > 1 else 0
    return text.find(needle, max(start, 0))


def _replace(text: str, args: list, ev, column) -> str:
    old = java_str(args[0]) if args[0] is not None else _text("replace", args[0], column)
    new = java_str(args[1]) if args[1] is not None else _text("replace", args[1], column)
    count = text.count(old) if old else len(text) + 1
    ev.check_length(len(text) + count * len(new), column)
    return text.replace(old, new)


def _split(text: str, args: list, ev, column) -> list:
    """String.split(regex[, limit]) as Java does it: groups are not returned, a zero-width
    match at the start leaves no empty first string, and without a limit trailing empty
    strings are dropped."""
    pattern = ev.compile_regex(_text("split", args[0], column), column)
    limit = _whole("split", args[1], column) if len(args) > 1 else 0
    parts: list[str] = []
    index = 0
    try:
        for match in pattern.finditer(text, timeout=ev.limits.regex_timeout_seconds):
            ev.tick(column)
            if limit > 0 and len(parts) >= limit - 1:
                break
            if index == 0 and match.start() == 0 and match.end() == 0:
                continue
            parts.append(text[index : match.start()])
            index = match.end()
    except TimeoutError:
        raise LimitExceeded(
            f"the regular expression took longer than {ev.limits.regex_timeout_seconds}s", column
        ) from None
    if index == 0:
        return [text]
    parts.append(text[index:])
    if limit == 0:
        while parts and parts[-1] == "":
            parts.pop()
    return parts


def _join(args: list, ev, column) -> str:
    if not args:
        raise ExpressionError("join() needs a delimiter and the elements to join", column)
    delimiter = _text("join", args[0], column, "delimiter")
    elements = args[1] if len(args) == 2 and type(args[1]) is list else args[1:]
    for element in elements:
        ev.check_size(element, column)
    joined = delimiter.join(java_str(element) for element in elements)
    ev.check_length(len(joined), column)
    return joined


def _string_method(text: str, name: str, args: list, ev, column):
    if name == "length":
        _arity(name, args, 0, 0, column)
        return len(text)
    if name == "isEmpty":
        _arity(name, args, 0, 0, column)
        return text == ""
    if name == "toUpperCase":
        _arity(name, args, 0, 0, column)
        return text.upper()
    if name == "toLowerCase":
        _arity(name, args, 0, 0, column)
        return text.lower()
    if name == "trim":
        _arity(name, args, 0, 0, column)
        return _java_trim(text)
    if name == "contains":
        _arity(name, args, 1, 1, column)
        return _text(name, args[0], column) in text
    if name == "startsWith":
        _arity(name, args, 1, 2, column)
        offset = _whole(name, args[1], column) if len(args) > 1 else 0
        return text.startswith(_text(name, args[0], column), offset)
    if name == "endsWith":
        _arity(name, args, 1, 1, column)
        return text.endswith(_text(name, args[0], column))
    if name == "matches":
        _arity(name, args, 1, 1, column)
        return ev.regex_matches(_text(name, args[0], column), text, column)
    if name == "substring":
        _arity(name, args, 1, 2, column)
        return _substring(text, args, column)
    if name == "indexOf":
        _arity(name, args, 1, 2, column)
        return _index_of(text, args, column)
    if name == "replace":
        _arity(name, args, 2, 2, column)
        return _replace(text, args, ev, column)
    if name == "split":
        _arity(name, args, 1, 2, column)
        return _split(text, args, ev, column)
    if name == "join":
        # String.join is static; Java lets it be called on any string.
        return _join(args, ev, column)
    return _NOT_FOUND


def _list_method(items: list, name: str, args: list, ev, column):
    if name == "size":
        _arity(name, args, 0, 0, column)
        return len(items)
    if name == "isEmpty":
        _arity(name, args, 0, 0, column)
        return not items
    if name == "contains":
        _arity(name, args, 1, 1, column)
        return any(java_equals(element, args[0], ev) for element in items)
    if name == "indexOf":
        _arity(name, args, 1, 1, column)
        for position, element in enumerate(items):
            if java_equals(element, args[0], ev):
                return position
        return -1
    if name == "get":
        _arity(name, args, 1, 1, column)
        position = _whole(name, args[0], column)
        if not 0 <= position < len(items):
            raise ExpressionError(
                f"index {position} is out of range: the list has {len(items)} elements", column
            )
        return items[position]
    return _NOT_FOUND


def _map_method(mapping: dict, name: str, args: list, ev, column):
    if name == "size":
        _arity(name, args, 0, 0, column)
        return len(mapping)
    if name == "isEmpty":
        _arity(name, args, 0, 0, column)
        return not mapping
    if name == "containsKey":
        _arity(name, args, 1, 1, column)
        return type(args[0]) is str and args[0] in mapping
    if name == "get":
        _arity(name, args, 1, 1, column)
        return mapping.get(args[0]) if type(args[0]) is str else None
    if name == "keySet":
        _arity(name, args, 0, 0, column)
        return list(mapping)
    if name == "values":
        _arity(name, args, 0, 0, column)
        return list(mapping.values())
    return _NOT_FOUND


_NOT_FOUND = object()

ALLOWED = {
    str: "contains, endsWith, equals, indexOf, isEmpty, join, length, matches, replace, split, "
    "startsWith, substring, toLowerCase, toString, toUpperCase, trim",
    list: "contains, equals, get, indexOf, isEmpty, size, toString",
    dict: "containsKey, equals, get, isEmpty, keySet, size, toString, values",
}
_BY_TYPE = {str: _string_method, list: _list_method, dict: _map_method}


def call_method(receiver, name: str, args: list, ev, column):
    """Call an allow-listed method on a plain value, with Java's meaning."""
    if receiver is None:
        raise ExpressionError(
            f"cannot call {name}() on null; use ?.{name}() to get null instead", column
        )
    if name == "toString":
        _arity(name, args, 0, 0, column)
        ev.check_size(receiver, column)
        return java_str(receiver)
    if name == "equals":
        _arity(name, args, 1, 1, column)
        return type(receiver) is type(args[0]) and java_equals(receiver, args[0], ev)
    implementation = _BY_TYPE.get(type(receiver))
    if implementation is not None:
        result = implementation(receiver, name, args, ev, column)
        if result is not _NOT_FOUND:
            return result
    allowed = ALLOWED.get(type(receiver), "equals, toString")
    raise ExpressionError(
        f"method {name}() is not allowed on {a_type(receiver)}; allowed: {allowed}", column
    )
