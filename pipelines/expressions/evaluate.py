"""Evaluating expressions, templates and whole stage configs."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import regex

from .errors import ExpressionError, LimitExceeded
from .fetch import UrlPolicy
from .limits import Limits, limits_from_settings
from .parser import parse
from .template import scan
from .values import measure, template_str

# How deeply data parsed by #readJson and friends may nest.
MAX_DATA_DEPTH = 100


@dataclass(frozen=True)
class Environment:
    """What the engine knows that the expression's data does not."""

    # The stage being started, for #currentStage().
    current_stage_id: str | None = None
    # The user for #currentUser(); otherwise the execution's authentication.user.
    user: str | None = None
    # (application, pipeline name) -> pipeline id or None, for #pipelineId().
    pipeline_id_lookup: Callable[[str | None, str], str | None] | None = None
    # Which URLs #fromUrl and friends may fetch; None reads the allow-list from settings.
    url_policy: UrlPolicy | None = None
    # Orca's allowUnknownKeys: ``a.missing`` on a map is null instead of an error.
    unknown_keys_are_null: bool = False


NO_ENVIRONMENT = Environment()


class Evaluation:
    """The state of evaluating one expression: its root, limits and steps taken."""

    __slots__ = ("root", "limits", "environment", "steps", "allocation")

    def __init__(self, root, limits: Limits, environment: Environment) -> None:
        self.root = root
        self.limits = limits
        self.environment = environment
        self.steps = 0
        # Characters and elements this expression has built so far, kept or not.
        self.allocation = 0

    def allocated(self, value, column: int | None):
        """``value``, counted against the expression's allocation budget if it was built."""
        kind = type(value)
        if kind is str or kind is list or kind is dict:
            self.allocation += len(value)
            if self.allocation > self.limits.max_allocation:
                raise LimitExceeded(
                    f"the expression built more than {self.limits.max_allocation} characters "
                    "and elements",
                    column,
                )
        return value

    def tick(self, column: int | None = None, count: int = 1) -> None:
        self.steps += count
        if self.steps > self.limits.max_steps:
            raise LimitExceeded(
                f"the expression took more than {self.limits.max_steps} steps", column
            )

    def check_length(self, length: int, column: int | None) -> None:
        if length > self.limits.max_result_size:
            raise LimitExceeded(
                f"the text would be longer than {self.limits.max_result_size} characters", column
            )

    def check_size(self, value, column: int | None) -> None:
        kind = type(value)
        if kind is str:
            self.check_length(len(value), column)
        elif kind is list or kind is dict:
            self.tick(column, measure(value, self.limits.max_result_size, column) // 64)

    def check_depth(self, value, column: int | None) -> None:
        pending = [(value, 1)]
        while pending:
            item, depth = pending.pop()
            if depth > MAX_DATA_DEPTH:
                raise LimitExceeded(f"the data nests more than {MAX_DATA_DEPTH} levels", column)
            if type(item) is list:
                pending.extend((element, depth + 1) for element in item)
            elif type(item) is dict:
                pending.extend((element, depth + 1) for element in item.values())

    def compile_regex(self, pattern: str, column: int | None):
        if len(pattern) > self.limits.max_regex_length:
            raise LimitExceeded(
                f"the regular expression is longer than {self.limits.max_regex_length} characters",
                column,
            )
        _check_repeats(pattern, column)
        try:
            return _compile(pattern)
        except (regex.error, ValueError, OverflowError, MemoryError) as error:
            raise ExpressionError(f"invalid regular expression: {error}", column) from None

    def regex_matches(self, pattern: str, text: str, column: int | None) -> bool:
        compiled = self.compile_regex(pattern, column)
        try:
            return compiled.fullmatch(text, timeout=self.limits.regex_timeout_seconds) is not None
        except TimeoutError:
            raise LimitExceeded(
                f"the regular expression took longer than {self.limits.regex_timeout_seconds}s",
                column,
            ) from None


@lru_cache(maxsize=512)
def _compile(pattern: str):
    return regex.compile(pattern, regex.VERSION0)


# How far counted repeats ({n}, {n,m}) may multiply out, nested ones multiplied together:
# the regex engine expands them when compiling, so (?:a{65535}){65535} would fill memory.
MAX_REGEX_REPEAT = 100_000
_REPEAT = regex.compile(r"\{(\d*)(?:,(\d*))?\}")


def _check_repeats(pattern: str, column: int | None) -> None:
    """Refuse patterns whose counted repeats multiply out past MAX_REGEX_REPEAT."""
    # Each open group keeps the largest expansion among its parts; ``last`` is the expansion of
    # the part just read, which a following {n} multiplies.
    groups = [1]
    last = 1
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            if (
                index <= len(pattern)
                and pattern[index - 1] in "pPNx"
                and pattern[index : index + 1] == "{"
            ):
                index = pattern.find("}", index) + 1 or len(pattern)
            last = 1
            continue
        if char == "[":
            index = _class_end(pattern, index)
            last = 1
            continue
        if char == "(":
            groups.append(1)
            index += 1
            continue
        if char == ")" and len(groups) > 1:
            last = groups.pop()
            groups[-1] = max(groups[-1], last)
            index += 1
            continue
        repeat = _REPEAT.match(pattern, index)
        if repeat:
            low, high = repeat.group(1), repeat.group(2)
            count = max(int(low or 0), int(high or 0))
            last *= max(count, 1)
            if last > MAX_REGEX_REPEAT:
                raise LimitExceeded(
                    f"the regular expression repeats too much (more than {MAX_REGEX_REPEAT} "
                    "times once its {n} counts are multiplied out)",
                    column,
                )
            groups[-1] = max(groups[-1], last)
            index = repeat.end()
            continue
        last = 1
        index += 1


def _class_end(pattern: str, start: int) -> int:
    """The index just past the character class opening at ``start``."""
    index = start + 1
    if pattern[index : index + 1] == "^":
        index += 1
    if pattern[index : index + 1] == "]":
        index += 1
    depth = 1
    while index < len(pattern) and depth:
        if pattern[index] == "\\":
            index += 2
            continue
        if pattern[index] == "[":
            depth += 1
        elif pattern[index] == "]":
            depth -= 1
        index += 1
    return index


def _resolve_limits(limits: Limits | None) -> Limits:
    if limits is not None:
        return limits
    from django.conf import settings

    return limits_from_settings() if settings.configured else Limits()


def _evaluate_part(source: str, offset: int, root, environment: Environment, limits: Limits):
    """The value of one expression found at ``offset`` of a template; columns are absolute."""
    try:
        tree = parse(source, limits)
        evaluation = Evaluation(root, limits, environment)
        value = tree.eval(evaluation, root)
        evaluation.check_size(value, 1)
        return value
    except ExpressionError as error:
        raise error.shifted(offset) if error.column else _at(error, max(offset - 1, 1)) from None
    except RecursionError:
        raise ExpressionError(
            "the data is nested too deeply to evaluate", max(offset - 1, 1)
        ) from None


def _at(error: ExpressionError, column: int) -> ExpressionError:
    placed = type(error)(error.message, column)
    placed.__cause__ = error.__cause__
    return placed


def evaluate_expression(
    expression: str,
    root,
    *,
    environment: Environment | None = None,
    limits: Limits | None = None,
):
    """The value of one bare SpEL expression (no ``${}``); raises ExpressionError."""
    return _evaluate_part(
        expression, 0, root, environment or NO_ENVIRONMENT, _resolve_limits(limits)
    )


def evaluate_template(
    text: str,
    root,
    *,
    environment: Environment | None = None,
    limits: Limits | None = None,
):
    """The value of a string as written in a stage's config; raises ExpressionError.

    ``"${trigger.tag}"`` gives the tag with its type; ``"image-${trigger.tag}"`` gives text,
    where an expression that is null stays as written (``${…}``), as Orca leaves it.
    """
    value, _ = _template(text, root, environment or NO_ENVIRONMENT, _resolve_limits(limits))
    return value


def _template(text: str, root, environment: Environment, limits: Limits) -> tuple[object, list]:
    """(value, expressions that were null) for one string."""
    parts = scan(text)
    if len(parts) == 1 and parts[0].is_expression:
        value = _evaluate_part(parts[0].text, parts[0].offset, root, environment, limits)
        return value, ([parts[0]] if value is None else [])
    pieces: list[str] = []
    unresolved = []
    length = 0
    for part in parts:
        if not part.is_expression:
            piece = part.text
        else:
            value = _evaluate_part(part.text, part.offset, root, environment, limits)
            if value is None:
                unresolved.append(part)
                piece = "${" + part.text + "}"
            else:
                piece = template_str(value)
        length += len(piece)
        if length > limits.max_result_size:
            raise LimitExceeded(
                f"the text would be longer than {limits.max_result_size} characters", part.offset
            )
        pieces.append(piece)
    return "".join(pieces), unresolved


def evaluate_config(
    config,
    root,
    *,
    environment: Environment | None = None,
    limits: Limits | None = None,
) -> tuple[object, dict]:
    """Evaluate every ``${…}`` in a stage's config (dicts, lists, strings, at any depth).

    Returns ``(evaluated, summary)``. An expression that fails keeps its original text; the
    summary, Orca's ``expressionEvaluationSummary``, maps each failed expression's text to
    entries ``{"description", "level": "ERROR" | "INFO", "timestamp", "column"}``. INFO means
    the expression was null. The caller decides whether failures fail the stage.
    """
    environment = environment or NO_ENVIRONMENT
    limits = _resolve_limits(limits)
    summary: dict[str, list[dict]] = {}
    # What is left of limits.max_config_size for the values put into this config.
    budget = [limits.max_config_size]

    def record(key: str, level: str, description: str, column: int | None) -> None:
        summary.setdefault(key, []).append(
            {
                "description": description,
                "level": level,
                "timestamp": int(time.time() * 1000),
                "column": column,
            }
        )

    def evaluate_string(source: str, path: str):
        if "${" not in source:
            return source
        try:
            value, unresolved = _template(source, root, environment, limits)
            if type(value) in (str, list, dict):
                budget[0] -= measure(value, limits.max_result_size)
                if budget[0] < 0:
                    raise LimitExceeded(
                        f"the config's evaluated values exceed {limits.max_config_size} "
                        "characters and elements in all",
                        1,
                    )
        except ExpressionError as error:
            record(
                _failed_key(source, error.column),
                "ERROR",
                f"Failed to evaluate [{path}] {error.message}",
                error.column,
            )
            return source
        for part in unresolved:
            record(
                part.text.strip(),
                "INFO",
                f"Failed to evaluate [{path}] : {part.text.strip()} not found",
                part.offset + 1,
            )
        return source if value is None else value

    def walk(value, path: str):
        kind = type(value)
        if kind is str:
            return evaluate_string(value, path)
        if kind is dict:
            evaluated = {}
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                new_key = evaluate_string(key, child) if type(key) is str else key
                evaluated[new_key if type(new_key) is str else str(new_key)] = walk(item, child)
            return evaluated
        if kind is list:
            return [walk(item, f"{path}[{index}]") for index, item in enumerate(value)]
        return value

    return walk(config, ""), summary


def _failed_key(source: str, column: int | None) -> str:
    """The text of the expression that failed (Orca's key), or the whole string."""
    try:
        parts = scan(source)
    except ExpressionError:
        return source
    for part in parts:
        if (
            part.is_expression
            and column is not None
            and part.offset - 1 <= column <= part.offset + len(part.text) + 1
        ):
            return part.text.strip()
    return source
