"""The SpEL subset as a lark grammar, parsed straight into ``nodes`` and cached.

The LALR parser builds nodes as it reduces (no recursion over the tree), and each node knows
its size and depth, so oversized input is refused before anything evaluates.
"""

from functools import lru_cache

from lark import Lark, Transformer, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, v_args
from lark.exceptions import UnexpectedToken, VisitError

from . import nodes
from .errors import ExpressionError
from .java_types import resolve_type
from .limits import Limits
from .values import LONG_MAX

GRAMMAR = r"""
?start: expr

?expr: or_expr
     | or_expr QMARK expr ":" expr  -> ternary
     | or_expr ELVIS expr           -> elvis

?or_expr: and_expr | or_expr OR and_expr    -> logical_or
?and_expr: rel_expr | and_expr AND rel_expr -> logical_and
?rel_expr: add_expr | add_expr REL_OP add_expr -> compare
?add_expr: mul_expr | add_expr (PLUS | MINUS) mul_expr -> arithmetic
?mul_expr: unary | mul_expr MUL_OP unary -> arithmetic
?unary: postfix
      | NOT unary   -> not_
      | MINUS unary -> negate
      | PLUS unary  -> plus

?postfix: atom
        | postfix DOT NAME                  -> property
        | postfix SAFE_DOT NAME             -> safe_property
        | postfix DOT NAME "(" args ")"      -> method
        | postfix SAFE_DOT NAME "(" args ")" -> safe_method
        | postfix LBRACKET expr "]"          -> index
        | postfix SELECT expr "]"            -> selection

?atom: literal
     | "(" expr ")"                -> group
     | HASH_NAME                  -> variable
     | HASH_NAME "(" args ")"     -> function
     | NAME                       -> this_property
     | NAME "(" args ")"          -> this_method
     | TYPE_OPEN qualified ")"    -> type_reference
     | NEW qualified "(" args ")" -> constructor
     | LBRACE "}"                 -> empty_list
     | LBRACE ":" "}"             -> empty_map
     | LBRACE expr ("," expr)* "}"           -> inline_list
     | LBRACE map_entry ("," map_entry)* "}" -> inline_map

map_entry: (NAME | STRING | INT) ":" expr
qualified: NAME ("." NAME)*
args: [expr ("," expr)*]

?literal: STRING -> string
        | INT    -> integer
        | FLOAT  -> float
        | TRUE   -> true
        | FALSE  -> false
        | NULL   -> null

QMARK: "?"
ELVIS: "?:"
OR.3: /or\b/i | "||"
AND.3: /and\b/i | "&&"
NOT.3: /not\b/i | "!"
REL_OP.3: "==" | "!=" | "<=" | ">=" | "<" | ">" | /(eq|ne|lt|gt|le|ge|matches)\b/i
MUL_OP.3: "*" | "/" | "%" | /(div|mod)\b/i
PLUS: "+"
MINUS: "-"
DOT: "."
SAFE_DOT: "?."
LBRACKET: "["
LBRACE: "{"
SELECT: ".?[" | ".^[" | ".$[" | ".!["
TYPE_OPEN.4: /T\s*\(/
NEW.3: /new\b/i
TRUE.3: /true\b/i
FALSE.3: /false\b/i
NULL.3: /null\b/i
HASH_NAME: /#[A-Za-z_$][A-Za-z0-9_$]*/
NAME: /[A-Za-z_$][A-Za-z0-9_$]*/
STRING: /'(?:[^']|'')*'/ | /"(?:[^"]|"")*"/
FLOAT.2: /\d+\.\d+(?:[eE][+-]?\d+)?[fFdD]?/ | /\d+[eE][+-]?\d+[fFdD]?/ | /\d+[fFdD]/
INT: /0[xX][0-9a-fA-F]+[lL]?/ | /\d+[lL]?/

%ignore /[ \t\r\n]+/
"""


def _at(token) -> int:
    # Counted from the start of the expression, not the line: expressions may span lines.
    return token.start_pos + 1


def _string_value(token) -> str:
    quote = token[0]
    return token[1:-1].replace(quote * 2, quote)


def _int_value(token) -> int:
    text = token.rstrip("lL")
    value = int(text, 16) if text[:2].lower() == "0x" else int(text)
    if value > LONG_MAX:
        raise ExpressionError(f"the number {text[:30]} is too large", _at(token))
    return value


@v_args(inline=True)
class _Build(Transformer):
    """Turns each grammar rule into a node as the parser reduces it."""

    def ternary(self, condition, mark, if_true, if_false):
        return nodes.Ternary(condition, if_true, if_false, _at(mark))

    def elvis(self, value, op, default):
        return nodes.Elvis(value, default, _at(op))

    def logical_or(self, left, op, right):
        return nodes.Logical(left, right, False, _at(op))

    def logical_and(self, left, op, right):
        return nodes.Logical(left, right, True, _at(op))

    def compare(self, left, op, right):
        return nodes.Compare(left, right, str(op), _at(op))

    def arithmetic(self, left, op, right):
        return nodes.Arithmetic(left, right, str(op), _at(op))

    def not_(self, op, operand):
        return nodes.Not(operand, _at(op))

    def negate(self, op, operand):
        if isinstance(operand, nodes.Literal) and type(operand.value) in (int, float):
            return nodes.Literal(-operand.value, _at(op))
        return nodes.Negate(operand, True, _at(op))

    def plus(self, op, operand):
        return nodes.Negate(operand, False, _at(op))

    def property(self, target, dot, name):
        return nodes.Property(target, str(name), False, _at(name))

    def safe_property(self, target, dot, name):
        return nodes.Property(target, str(name), True, _at(name))

    def method(self, target, dot, name, args):
        return nodes.MethodCall(target, str(name), args, False, _at(name))

    def safe_method(self, target, dot, name, args):
        return nodes.MethodCall(target, str(name), args, True, _at(name))

    def index(self, target, bracket, key):
        return nodes.Index(target, key, _at(bracket))

    def selection(self, target, kind, body):
        return nodes.Selection(target, str(kind), body, _at(kind))

    def group(self, expr):
        # Parentheses add no node, but they nest: count them toward the depth limit.
        expr.depth += 1
        return expr

    def variable(self, name):
        return nodes.Variable(name[1:], _at(name))

    def function(self, name, args):
        return nodes.FunctionCall(name[1:], args, _at(name))

    def this_property(self, name):
        return nodes.Property(None, str(name), False, _at(name))

    def this_method(self, name, args):
        return nodes.MethodCall(None, str(name), args, False, _at(name))

    def type_reference(self, opening, qualified):
        return nodes.TypeReference(resolve_type(qualified, _at(opening)), _at(opening))

    def constructor(self, new, qualified, args):
        raise ExpressionError(
            f"'new {qualified}(...)' is not allowed: expressions cannot create Java or Python "
            "objects",
            _at(new),
        )

    def empty_list(self, brace):
        return nodes.InlineList([], _at(brace))

    def empty_map(self, brace):
        return nodes.InlineMap([], _at(brace))

    def inline_list(self, brace, *items):
        return nodes.InlineList(list(items), _at(brace))

    def inline_map(self, brace, *entries):
        return nodes.InlineMap(list(entries), _at(brace))

    def map_entry(self, key, value):
        if key.type == "STRING":
            return (_string_value(key), value)
        return (str(key), value)

    def qualified(self, *names):
        return ".".join(names)

    def args(self, *items):
        return [item for item in items if item is not None]

    def string(self, token):
        return nodes.Literal(_string_value(token), _at(token))

    def integer(self, token):
        return nodes.Literal(_int_value(token), _at(token))

    def float(self, token):
        return nodes.Literal(float(token.rstrip("fFdD")), _at(token))

    def true(self, token):
        return nodes.Literal(True, _at(token))

    def false(self, token):
        return nodes.Literal(False, _at(token))

    def null(self, token):
        return nodes.Literal(None, _at(token))


_PARSER = Lark(GRAMMAR, parser="lalr", transformer=_Build(), maybe_placeholders=True)

_TOKEN_NAMES = {
    "RPAR": "')'", "LPAR": "'('", "RSQB": "']'", "RBRACE": "'}'", "COMMA": "','",
    "COLON": "':'", "NAME": "a name", "STRING": "a string", "INT": "a number",
    "$END": "the end of the expression",
}  # fmt: skip


def _describe(error: UnexpectedInput) -> str:
    if isinstance(error, UnexpectedCharacters):
        return f"syntax error: unexpected character {error.char!r}"
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        return "syntax error: the expression ends too early"
    if isinstance(error, UnexpectedToken):
        expected = sorted(_TOKEN_NAMES[name] for name in error.expected if name in _TOKEN_NAMES)
        hint = f"; expected {' or '.join(expected)}" if expected and len(expected) <= 3 else ""
        return f"syntax error: unexpected {str(error.token)!r}{hint}"
    return "syntax error: the expression cannot be parsed"


@lru_cache(maxsize=4096)
def _parse_cached(source: str) -> nodes.Node:
    try:
        return _PARSER.parse(source)
    except VisitError as error:
        if isinstance(error.orig_exc, ExpressionError):
            raise error.orig_exc from None
        raise
    except UnexpectedInput as error:
        position = getattr(error, "pos_in_stream", None)
        column = position + 1 if isinstance(position, int) else None
        at_end = isinstance(error, UnexpectedEOF) or (
            isinstance(error, UnexpectedToken) and error.token.type == "$END"
        )
        if at_end or column is None or column < 1:
            column = len(source.rstrip()) + 1
        raise ExpressionError(_describe(error), column) from None


def parse(source: str, limits: Limits) -> nodes.Node:
    """The node tree of one expression (the text inside ``${…}``); columns count from 1."""
    if len(source) > limits.max_expression_length:
        raise ExpressionError(
            f"the expression is longer than {limits.max_expression_length} characters", 1
        )
    if not source.strip():
        raise ExpressionError("the expression is empty", 1)
    tree = _parse_cached(source)
    if tree.size > limits.max_ast_nodes:
        raise ExpressionError(
            f"the expression has more than {limits.max_ast_nodes} parts; split it up", 1
        )
    if tree.depth > limits.max_depth:
        raise ExpressionError(f"the expression nests more than {limits.max_depth} levels deep", 1)
    return tree
