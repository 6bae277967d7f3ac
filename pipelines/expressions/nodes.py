"""The parsed form of an expression and how each part evaluates.

Every node evaluates against an ``Evaluation`` (the root, the limits, the step count) and the
active context object ``this`` (``#this``: the root at the top, an element inside a selection).
Nothing here looks up Python attributes: values are only indexed as dicts and lists, and
methods and functions come from tables this package implements.
"""

import math

from .errors import ExpressionError
from .values import (
    a_type,
    is_number,
    java_compare,
    java_equals,
    java_float,
    java_int,
    java_str,
    to_boolean,
    type_name,
)


class Node:
    __slots__ = ("column", "size", "depth")

    def __init__(self, column: int | None, *children: "Node") -> None:
        self.column = column
        self.size = 1 + sum(child.size for child in children)
        self.depth = 1 + max((child.depth for child in children), default=0)

    def eval(self, ev, this):  # pragma: no cover - every node overrides it
        raise NotImplementedError


class Literal(Node):
    __slots__ = ("value",)

    def __init__(self, value, column: int) -> None:
        super().__init__(column)
        self.value = value

    def eval(self, ev, this):
        return self.value


class Variable(Node):
    """``#root``, ``#this``; any other ``#name`` not followed by ``(`` is refused."""

    __slots__ = ("name",)

    def __init__(self, name: str, column: int) -> None:
        super().__init__(column)
        self.name = name

    def eval(self, ev, this):
        ev.tick(self.column)
        if self.name == "root":
            return ev.root
        if self.name == "this":
            return this
        from .functions import FUNCTIONS

        if self.name in FUNCTIONS:
            raise ExpressionError(
                f"#{self.name} is a function: call it as #{self.name}(...)", self.column
            )
        raise ExpressionError(
            f"unknown variable #{self.name}; the variables are #root and #this", self.column
        )


class Property(Node):
    """``a.b``, ``a?.b``, and a bare name ``b`` (a property of ``#this``)."""

    __slots__ = ("target", "name", "safe")

    def __init__(self, target: Node | None, name: str, safe: bool, column: int) -> None:
        super().__init__(column, *([target] if target else []))
        self.target = target
        self.name = name
        self.safe = safe

    def eval(self, ev, this):
        ev.tick(self.column)
        receiver = this if self.target is None else self.target.eval(ev, this)
        if type(receiver) is dict and self.name in receiver:
            return receiver[self.name]
        lenient = self.safe or (type(receiver) is dict and ev.environment.unknown_keys_are_null)
        return read_property(receiver, self.name, lenient, self.column)


def read_property(receiver, name: str, safe: bool, column: int | None):
    if type(receiver) is dict:
        if name in receiver:
            return receiver[name]
        if safe:
            return None
        known = ", ".join(sorted(str(key) for key in receiver)[:12])
        hint = f" (it has: {known})" if known else " (it is empty)"
        raise ExpressionError(
            f"property '{name}' not found{hint}; use ?.{name} or ['{name}'] to get null instead",
            column,
        )
    if receiver is None:
        if safe:
            return None
        raise ExpressionError(
            f"cannot read property '{name}' of null; use ?.{name} to get null instead", column
        )
    raise ExpressionError(f"{a_type(receiver)} has no property '{name}'", column)


class Index(Node):
    __slots__ = ("target", "index")

    def __init__(self, target: Node, index: Node, column: int) -> None:
        super().__init__(column, target, index)
        self.target = target
        self.index = index

    def eval(self, ev, this):
        ev.tick(self.column)
        receiver = self.target.eval(ev, this)
        key = self.index.eval(ev, this)
        if type(receiver) is dict:
            return receiver.get(key) if type(key) is str else None
        if type(receiver) in (list, str):
            position = _list_position(key, self.column)
            if not 0 <= position < len(receiver):
                raise ExpressionError(
                    f"index {position} is out of range: the {type_name(receiver)} has "
                    f"{len(receiver)} elements",
                    self.column,
                )
            return receiver[position]
        if receiver is None:
            raise ExpressionError("cannot index into null", self.column)
        raise ExpressionError(f"cannot index into {a_type(receiver)}", self.column)


def _list_position(key, column: int | None) -> int:
    if type(key) is int:
        return key
    if type(key) is str and key.strip().lstrip("-").isdigit():
        return int(key)
    raise ExpressionError(f"a list index must be a whole number, not {a_type(key)}", column)


class MethodCall(Node):
    """``a.m(x)``, ``a?.m(x)``, ``T(type).m(x)``, and ``m(x)`` on ``#this``."""

    __slots__ = ("target", "name", "args", "safe")

    def __init__(self, target: Node | None, name: str, args: list, safe: bool, column: int):
        super().__init__(column, *([target] if target else []), *args)
        self.target = target
        self.name = name
        self.args = args
        self.safe = safe

    def eval(self, ev, this):
        ev.tick(self.column)
        if isinstance(self.target, TypeReference):
            args = [arg.eval(ev, this) for arg in self.args]
            result = self.target.java_type.call(self.name, args, ev, self.column)
            return ev.allocated(result, self.column)
        receiver = this if self.target is None else self.target.eval(ev, this)
        if receiver is None and self.safe:
            return None
        args = [arg.eval(ev, this) for arg in self.args]
        from .methods import call_method

        return ev.allocated(call_method(receiver, self.name, args, ev, self.column), self.column)


class FunctionCall(Node):
    __slots__ = ("name", "args")

    def __init__(self, name: str, args: list, column: int) -> None:
        super().__init__(column, *args)
        self.name = name
        self.args = args

    def eval(self, ev, this):
        ev.tick(self.column)
        from .functions import call_function

        args = [arg.eval(ev, this) for arg in self.args]
        return ev.allocated(call_function(self.name, args, ev, self.column), self.column)


class TypeReference(Node):
    """``T(java.lang.Math)``: the type was checked against the allow-list when parsed."""

    __slots__ = ("java_type",)

    def __init__(self, java_type, column: int) -> None:
        super().__init__(column)
        self.java_type = java_type

    def eval(self, ev, this):
        # A type is never a value: it cannot be stored, compared or returned.
        raise ExpressionError(
            f"T({self.java_type.name}) must be followed by a method call, "
            "as in T(java.lang.Math).max(1, 2)",
            self.column,
        )


class Selection(Node):
    """``.?[…]`` (select), ``.^[…]`` (first), ``.$[…]`` (last), ``.![…]`` (project)."""

    __slots__ = ("target", "kind", "body")

    def __init__(self, target: Node, kind: str, body: Node, column: int) -> None:
        super().__init__(column, target, body)
        self.target = target
        self.kind = kind
        self.body = body

    def eval(self, ev, this):
        ev.tick(self.column)
        source = self.target.eval(ev, this)
        if type(source) is dict:
            entries = [({"key": key, "value": value}, key) for key, value in source.items()]
        elif type(source) is list:
            entries = [(element, None) for element in source]
        else:
            raise ExpressionError(
                f"{self.kind} needs a list or a map, not {a_type(source)}", self.column
            )
        if self.kind == ".![":
            result = [self.body.eval(ev, element) for element, _ in entries]
            ev.check_size(result, self.column)
            return ev.allocated(result, self.column)
        chosen = []
        ordered = reversed(entries) if self.kind == ".$[" else entries
        for element, key in ordered:
            verdict = self.body.eval(ev, element)
            if type(verdict) is not bool:
                raise ExpressionError(
                    f"a selection must be true or false for each element, not {a_type(verdict)}",
                    self.column,
                )
            if verdict:
                chosen.append((element, key))
                if self.kind != ".?[":
                    break
        if type(source) is dict:
            return {key: element["value"] for element, key in chosen}
        if self.kind == ".?[":
            return [element for element, _ in chosen]
        return chosen[0][0] if chosen else None


class InlineList(Node):
    __slots__ = ("items",)

    def __init__(self, items: list, column: int) -> None:
        super().__init__(column, *items)
        self.items = items

    def eval(self, ev, this):
        ev.tick(self.column)
        return [item.eval(ev, this) for item in self.items]


class InlineMap(Node):
    __slots__ = ("entries",)

    def __init__(self, entries: list, column: int) -> None:
        super().__init__(column, *(value for _, value in entries))
        self.entries = entries

    def eval(self, ev, this):
        ev.tick(self.column)
        return {key: value.eval(ev, this) for key, value in self.entries}


class Ternary(Node):
    __slots__ = ("condition", "if_true", "if_false")

    def __init__(self, condition: Node, if_true: Node, if_false: Node, column: int) -> None:
        super().__init__(column, condition, if_true, if_false)
        self.condition = condition
        self.if_true = if_true
        self.if_false = if_false

    def eval(self, ev, this):
        ev.tick(self.column)
        if to_boolean(self.condition.eval(ev, this), self.column):
            return self.if_true.eval(ev, this)
        return self.if_false.eval(ev, this)


class Elvis(Node):
    """``a ?: b``: b when a is null or the empty string."""

    __slots__ = ("value", "default")

    def __init__(self, value: Node, default: Node, column: int) -> None:
        super().__init__(column, value, default)
        self.value = value
        self.default = default

    def eval(self, ev, this):
        ev.tick(self.column)
        value = self.value.eval(ev, this)
        if value is None or value == "":
            return self.default.eval(ev, this)
        return value


class Logical(Node):
    __slots__ = ("left", "right", "is_and")

    def __init__(self, left: Node, right: Node, is_and: bool, column: int) -> None:
        super().__init__(column, left, right)
        self.left = left
        self.right = right
        self.is_and = is_and

    def eval(self, ev, this):
        ev.tick(self.column)
        word = "and" if self.is_and else "or"
        left = to_boolean(self.left.eval(ev, this), self.column, f"left side of '{word}'")
        if left is not self.is_and:
            return left
        return to_boolean(self.right.eval(ev, this), self.column, f"right side of '{word}'")


class Not(Node):
    __slots__ = ("operand",)

    def __init__(self, operand: Node, column: int) -> None:
        super().__init__(column, operand)
        self.operand = operand

    def eval(self, ev, this):
        ev.tick(self.column)
        return not to_boolean(self.operand.eval(ev, this), self.column, "operand of 'not'")


class Negate(Node):
    __slots__ = ("operand", "minus")

    def __init__(self, operand: Node, minus: bool, column: int) -> None:
        super().__init__(column, operand)
        self.operand = operand
        self.minus = minus

    def eval(self, ev, this):
        ev.tick(self.column)
        value = self.operand.eval(ev, this)
        if not is_number(value):
            sign = "-" if self.minus else "+"
            raise ExpressionError(f"cannot apply '{sign}' to {a_type(value)}", self.column)
        return -value if self.minus else value


_COMPARISONS = {
    "==": "==", "eq": "==", "!=": "!=", "ne": "!=",
    "<": "<", "lt": "<", ">": ">", "gt": ">", "<=": "<=", "le": "<=", ">=": ">=", "ge": ">=",
    "matches": "matches",
}  # fmt: skip


class Compare(Node):
    __slots__ = ("left", "right", "op")

    def __init__(self, left: Node, right: Node, op: str, column: int) -> None:
        super().__init__(column, left, right)
        self.left = left
        self.right = right
        self.op = _COMPARISONS[op.lower()]

    def eval(self, ev, this):
        ev.tick(self.column)
        left = self.left.eval(ev, this)
        right = self.right.eval(ev, this)
        op = self.op
        if op == "==":
            return java_equals(left, right, ev)
        if op == "!=":
            return not java_equals(left, right, ev)
        if op == "matches":
            if type(left) is not str or type(right) is not str:
                raise ExpressionError(
                    f"'matches' needs text on both sides, not {a_type(left)} and "
                    f"{type_name(right)}",
                    self.column,
                )
            return ev.regex_matches(right, left, self.column)
        order = java_compare(left, right, self.column)
        if op == "<":
            return order < 0
        if op == ">":
            return order > 0
        if op == "<=":
            return order <= 0
        return order >= 0


class Arithmetic(Node):
    __slots__ = ("left", "right", "op")

    def __init__(self, left: Node, right: Node, op: str, column: int) -> None:
        super().__init__(column, left, right)
        self.left = left
        self.right = right
        self.op = {"div": "/", "mod": "%"}.get(op.lower(), op)

    def eval(self, ev, this):
        ev.tick(self.column)
        result = arithmetic(
            self.op, self.left.eval(ev, this), self.right.eval(ev, this), ev, self.column
        )
        return ev.allocated(result, self.column) if type(result) is str else result


def arithmetic(op: str, left, right, ev, column: int | None):
    if op == "+" and (type(left) is str or type(right) is str):
        if type(left) is not str:
            ev.check_size(left, column)
        if type(right) is not str:
            ev.check_size(right, column)
        left_text, right_text = java_str(left), java_str(right)
        ev.check_length(len(left_text) + len(right_text), column)
        return left_text + right_text
    if op == "*" and type(left) is str and type(right) is int:
        ev.check_length(len(left) * max(right, 0), column)
        return left * right
    if not (is_number(left) and is_number(right)):
        raise ExpressionError(f"cannot apply '{op}' to {a_type(left)} and {a_type(right)}", column)
    both_int = type(left) is int and type(right) is int
    if op == "+":
        result = left + right
    elif op == "-":
        result = left - right
    elif op == "*":
        result = left * right
    elif right == 0 and (both_int or op == "%"):
        raise ExpressionError("division by zero", column)
    elif op == "/":
        if both_int:
            # Java truncates integer division toward zero: -7 / 2 == -3.
            quotient = abs(left) // abs(right)
            return quotient if (left < 0) == (right < 0) else -quotient
        if right == 0:
            raise ExpressionError("division by zero", column)
        result = left / right
    else:
        # Java's remainder takes the sign of the dividend: -7 % 2 == -1.
        if both_int:
            remainder = abs(left) % abs(right)
            return -remainder if left < 0 else remainder
        result = math.fmod(left, right)
    return java_int(result, column) if both_int else java_float(result, column)
