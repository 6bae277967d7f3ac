"""Finding ``${…}`` expressions in a string, as Spring's TemplateParserContext does."""

from dataclasses import dataclass
from functools import lru_cache

from .errors import ExpressionError


@dataclass(frozen=True, slots=True)
class Part:
    """Plain text, or (``is_expression``) the text between ``${`` and ``}``."""

    text: str
    is_expression: bool = False
    # Where ``text`` starts in the whole string (0-based), for error columns.
    offset: int = 0


@lru_cache(maxsize=8192)
def scan(source: str) -> tuple[Part, ...]:
    """The text and expression parts of ``source``.

    Inside ``${…}`` the braces of inline lists and maps nest, and quoted text (``'}'``,
    ``'${x}'``) is text; an unquoted ``${`` inside an expression is an error.
    """
    parts: list[Part] = []
    position = 0
    length = len(source)
    while True:
        start = source.find("${", position)
        if start < 0:
            if position < length:
                parts.append(Part(source[position:], offset=position))
            return tuple(parts)
        if start > position:
            parts.append(Part(source[position:start], offset=position))
        end = _closing_brace(source, start)
        parts.append(Part(source[start + 2 : end], is_expression=True, offset=start + 2))
        position = end + 1


def _closing_brace(source: str, start: int) -> int:
    depth = 0
    quote = ""
    index = start + 2
    length = len(source)
    while index < length:
        char = source[index]
        if quote:
            if char == quote:
                if index + 1 < length and source[index + 1] == quote:
                    index += 1  # a doubled quote is a quote inside the string
                else:
                    quote = ""
        elif char in "'\"":
            quote = char
        elif char == "$" and source.startswith("${", index):
            raise ExpressionError(
                "an expression cannot contain another ${ … }; put it in quotes to mean the text",
                index + 1,
            )
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    if quote:
        raise ExpressionError(f"the string opened with {quote} is never closed", start + 1)
    raise ExpressionError("the expression opened with ${ is never closed with }", start + 1)
