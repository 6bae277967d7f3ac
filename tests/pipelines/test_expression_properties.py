"""Property tests: whatever the input, only ExpressionError comes out, within the limits."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.expressions import (
    ExpressionError,
    Limits,
    evaluate_config,
    evaluate_template,
)
from pipelines.expressions.values import measure

from .conftest import allowing, prod_stage_root

ROOT = prod_stage_root()
ENVIRONMENT = allowing()  # an empty allow-list: nothing random can fetch anything
# Small limits, so random input reaches them often.
LIMITS = Limits(max_steps=2_000, max_result_size=5_000, max_ast_nodes=300, max_depth=30)

PROPERTIES = settings(
    max_examples=300,
    deadline=5_000,  # milliseconds; regex timeouts and a loaded machine stay far below
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

ATOMS = [
    "trigger", "parameters", "execution", "labels", "ports", "instances", "nothing", "tag",
    "#root", "#this", "1", "0", "-3", "2.5", "'x'", "'v1.2'", "\"q\"", "true", "false", "null",
    "{1,2,3}", "{a:1}", "{}", "T(Math)", "T(java.lang.String)", "execution.stages",
]  # fmt: skip
OPERATORS = [
    "+", "-", "*", "/", "%", "==", "!=", "<", ">=", "and", "or", "matches", "?:", "eq", "div",
]  # fmt: skip
SUFFIXES = [
    ".tag", "?.tag", ".status", "['env']", "[0]", "[-1]", ".size()", ".toString()",
    ".length()", ".split(',')", ".keySet()", ".?[#this > 1]", ".![#this]", ".^[true]",
    ".$[false]", ".contains('a')", ".substring(1)", ".replace('a', 'bb')", ".__class__",
    ".getClass()", ".max(1, 2)", ".format('%s', 1)",
]  # fmt: skip
FUNCTIONS = [
    "#stage('Bake')", "#judgment('Approve')", "#toJson", "#readJson", "#toInt", "#toFloat",
    "#alphanumerical", "#toBase64", "#fromUrl", "#stageExists", "#doNotEval", "#readYaml",
]  # fmt: skip


def expressions() -> st.SearchStrategy[str]:
    """Mostly well-formed expressions built from the pieces pipelines use."""
    base = st.sampled_from(ATOMS)

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(OPERATORS), inner).map(" ".join),
            st.tuples(inner, st.sampled_from(SUFFIXES)).map("".join),
            st.tuples(st.sampled_from(FUNCTIONS), inner).map(
                lambda pair: pair[0] if "(" in pair[0] else f"{pair[0]}({pair[1]})"
            ),
            st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
            inner.map(lambda e: f"({e})"),
            inner.map(lambda e: f"!{e}"),
            st.lists(inner, max_size=4).map(lambda items: "{" + ", ".join(items) + "}"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
        )

    return st.recursive(base, extend, max_leaves=12)


def assert_within_limits(value) -> None:
    json.dumps(value)  # plain data only
    assert measure(value, LIMITS.max_result_size) <= LIMITS.max_result_size


@PROPERTIES
@given(st.text(max_size=200))
def test_any_text_gives_a_value_or_an_expression_error(text):
    try:
        value = evaluate_template(text, ROOT, environment=ENVIRONMENT, limits=LIMITS)
    except ExpressionError as error:
        assert error.message
        return
    assert_within_limits(value)


@PROPERTIES
@given(st.text(alphabet=st.sampled_from("${}[]().?!#'\"^$:,=<>+-*/%ab01 T"), max_size=60))
def test_any_punctuation_inside_a_template_gives_a_value_or_an_expression_error(text):
    try:
        value = evaluate_template("${" + text + "}", ROOT, environment=ENVIRONMENT, limits=LIMITS)
    except ExpressionError as error:
        assert error.column is not None and error.column >= 1
        return
    assert_within_limits(value)


@PROPERTIES
@given(expressions())
def test_any_expression_gives_a_value_or_an_expression_error(expression):
    try:
        value = evaluate_template(
            "${" + expression + "}", ROOT, environment=ENVIRONMENT, limits=LIMITS
        )
    except ExpressionError as error:
        assert error.column is not None and error.column >= 1
        return
    assert_within_limits(value)


@PROPERTIES
@given(st.lists(expressions(), max_size=5))
def test_any_config_evaluates_to_plain_data_and_a_summary(expressions_in_config):
    config = {f"field{i}": "pre-${" + e + "}" for i, e in enumerate(expressions_in_config)}
    evaluated, summary = evaluate_config(config, ROOT, environment=ENVIRONMENT, limits=LIMITS)
    json.dumps(evaluated)
    json.dumps(summary)
    assert set(evaluated) == set(config)
    for entries in summary.values():
        assert all(entry["level"] in ("ERROR", "INFO") for entry in entries)
