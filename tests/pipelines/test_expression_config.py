"""evaluate_config, the Orca scope, and the engine-facing parts of the package."""

import json

import pytest
from django.test import override_settings

from pipelines.expressions import (
    Environment,
    ExpressionError,
    evaluate_config,
    evaluate_expression,
    evaluate_template,
    stage_scope,
)
from pipelines.expressions.parser import parse

from .conftest import EXECUTION, allowing


def test_a_config_is_evaluated_at_every_depth_and_keeps_types(root, environment):
    config = {
        "image": "acme/web:${trigger.tag}",
        "capacity": {"desired": "${#toInt(parameters.replicas)}", "max": 10},
        "regions": ["${parameters.regions.split(',')[0]}", "static"],
        "canary": "${parameters.canary == 'true'}",
        "labels": "${labels}",
        "untouched": [1, 2.5, True, None],
    }
    evaluated, summary = evaluate_config(config, root, environment=environment)
    assert evaluated == {
        "image": "acme/web:v1.4.2",
        "capacity": {"desired": 3, "max": 10},
        "regions": ["us-east-1", "static"],
        "canary": True,
        "labels": {"team": "payments", "tier": "frontend"},
        "untouched": [1, 2.5, True, None],
    }
    assert summary == {}


def test_a_failed_expression_keeps_its_text_and_lands_in_the_summary(root):
    evaluated, summary = evaluate_config({"step": {"image": "web:${trigger.tga}"}}, root)
    assert evaluated == {"step": {"image": "web:${trigger.tga}"}}
    assert list(summary) == ["trigger.tga"]
    (entry,) = summary["trigger.tga"]
    assert entry["level"] == "ERROR"
    assert entry["description"].startswith("Failed to evaluate [step.image] property 'tga'")
    assert entry["column"] == 15
    assert isinstance(entry["timestamp"], int)
    assert set(entry) == {"description", "level", "timestamp", "column"}


def test_a_null_expression_keeps_its_text_with_an_info_entry(root):
    evaluated, summary = evaluate_config({"a": "${trigger['nope']}", "b": "x-${nothing}"}, root)
    assert evaluated == {"a": "${trigger['nope']}", "b": "x-${nothing}"}
    assert summary["trigger['nope']"][0]["level"] == "INFO"
    assert summary["trigger['nope']"][0]["description"].endswith("trigger['nope'] not found")
    assert summary["nothing"][0]["level"] == "INFO"
    assert summary["nothing"][0]["column"] == 3 + 2


def test_a_syntax_error_is_reported_with_its_column(root):
    evaluated, summary = evaluate_config({"cmd": "run ${trigger.tag +}"}, root)
    assert evaluated == {"cmd": "run ${trigger.tag +}"}
    (entry,) = summary["trigger.tag +"]
    assert "syntax error" in entry["description"]
    assert entry["column"] == 20


def test_keys_are_evaluated_too(root):
    evaluated, _ = evaluate_config({"${parameters.env}-replicas": 3}, root)
    assert evaluated == {"prod-replicas": 3}


def test_do_not_eval_leaves_the_text_alone(root):
    evaluated, summary = evaluate_config({"script": "${#doNotEval('echo ${HOME}')}"}, root)
    assert evaluated == {"script": "echo ${HOME}"}
    assert summary == {}


def test_a_string_without_expressions_is_returned_as_is(root):
    config = {"a": "plain", "b": "$ dollars {braces}", "c": "$", "d": ""}
    assert evaluate_config(config, root) == (config, {})


def test_a_nested_unquoted_template_is_an_error_at_its_column():
    with pytest.raises(ExpressionError, match="cannot contain another") as caught:
        evaluate_template("${trigger.${x}}", {})
    assert caught.value.column == 11


def test_columns_count_from_the_start_of_a_multi_line_string(root):
    with pytest.raises(ExpressionError) as caught:
        evaluate_template("${trigger.tag +\n  trigger.nope}", root)
    assert caught.value.column == len("${trigger.tag +\n  trigger.") + 1


def test_an_unclosed_quote_is_an_error():
    with pytest.raises(ExpressionError, match="never closed"):
        evaluate_template("${'abc}", {})


def test_a_bare_expression_can_be_evaluated_without_a_template(root):
    assert evaluate_expression("trigger.tag + '-' + parameters.env", root) == "v1.4.2-prod"


def test_the_scope_has_the_execution_trigger_parameters_and_scm_info():
    execution = json.loads(json.dumps(EXECUTION))
    scope = stage_scope(execution["stages"][-1], execution)
    assert scope["execution"] is execution
    assert scope["trigger"]["tag"] == "v1.4.2"
    assert scope["parameters"] == execution["trigger"]["parameters"]
    assert scope["scmInfo"]["branch"] == "feature/login"
    assert scope["deployedServerGroups"][0]["serverGroup"] == "web-staging-v007"


def test_variables_win_over_context_keys_but_other_outputs_do_not():
    execution = json.loads(json.dumps(EXECUTION))
    execution["stages"][2]["outputs"]["account"] = "from-smoke-test"
    scope = stage_scope(execution["stages"][-1], execution)
    assert scope["canaryPercent"] == 10  # Evaluate Variables beats the context's 5
    assert scope["account"] == "prod"  # an ordinary output does not beat the context
    assert scope["releaseName"] == "web-r42"


def test_a_stage_sees_only_the_outputs_of_stages_upstream_of_it():
    execution = json.loads(json.dumps(EXECUTION))
    bake = execution["stages"][0]
    scope = stage_scope(bake, execution)
    assert "testsPassed" not in scope and "releaseName" not in scope
    assert scope["package"] == "web"


def test_scm_info_falls_back_to_the_first_entry_on_master():
    execution = {"trigger": {"buildInfo": {"scm": [{"branch": "master", "sha1": "a"}]}}}
    assert stage_scope({"context": {}}, execution)["scmInfo"] == {"branch": "master", "sha1": "a"}


def test_current_stage_needs_the_running_stage(root):
    with pytest.raises(ExpressionError, match="needs a running stage"):
        evaluate_template("${#currentStage()}", root)


def test_stage_helpers_need_an_execution():
    with pytest.raises(ExpressionError, match="#root has no 'execution'"):
        evaluate_template("${#stage('Bake')}", {"trigger": {}})


def test_pipeline_id_asks_the_engine_for_the_pipeline(root):
    pipelines = {("web", "Deploy web"): "pipe-1"}
    environment = Environment(pipeline_id_lookup=lambda app, name: pipelines.get((app, name)))
    assert evaluate_template("${#pipelineId('Deploy web')}", root, environment=environment) == (
        "pipe-1"
    )
    with pytest.raises(ExpressionError, match="no pipeline named 'Nope' in application 'web'"):
        evaluate_template("${#pipelineId('Nope')}", root, environment=environment)


def test_current_user_comes_from_the_environment_then_the_execution(root):
    environment = Environment(user="bob")
    assert evaluate_template("${#currentUser()}", root, environment=environment) == "bob"
    assert evaluate_template("${#currentUser()}", root) == "alice@example.com"
    assert evaluate_template("${#currentUser()}", {}) == "anonymous"


def test_loopback_is_fetched_when_the_allow_list_names_the_host_and_port(config_server):
    environment = allowing(f"localhost:{config_server.port}")
    url = f"http://localhost:{config_server.port}/version.txt"
    assert evaluate_template(f"${{#fromUrl('{url}')}}", {}, environment=environment) == "v2.0.1\n"


def test_a_malformed_allow_list_is_an_expression_error_not_a_crash(config_server):
    template = f"${{#fromUrl('{config_server.url('/version.txt')}')}}"
    with (
        override_settings(SPINUI_EXPRESSION_URL_ALLOWLIST=["not a host!"]),
        pytest.raises(ExpressionError, match="SPINUI_EXPRESSION_URL_ALLOWLIST"),
    ):
        evaluate_template(template, {})


def test_unknown_keys_can_be_null_as_with_orcas_allow_unknown_keys(root):
    lenient = Environment(unknown_keys_are_null=True)
    assert evaluate_template("${parameters.missing ?: 'x'}", root, environment=lenient) == "x"
    with pytest.raises(ExpressionError, match="cannot read property 'deeper' of null"):
        evaluate_template("${trigger.missing.deeper}", root, environment=lenient)
    with pytest.raises(ExpressionError, match="property 'missing' not found"):
        evaluate_template("${parameters.missing ?: 'x'}", root)


def test_parsing_is_cached():
    from pipelines.expressions.limits import Limits

    assert parse("trigger.tag == 'x'", Limits()) is parse("trigger.tag == 'x'", Limits())


def test_limits_come_from_settings(root):
    with (
        override_settings(SPINUI_EXPRESSION_MAX_STEPS=5),
        pytest.raises(ExpressionError, match="more than 5 steps"),
    ):
        evaluate_template("${execution.stages.![name]}", root)
