"""Each stage's config is evaluated when the stage starts."""

from tests.pipelines.engine.conftest import stage, statuses


def test_stage_enabled_false_skips_the_stage_and_says_why(run_pipeline):
    execution = run_pipeline(
        [
            stage(
                "1", stageEnabled={"type": "expression", "expression": "parameters.env == 'prod'"}
            ),
            stage("2", after=["1"]),
        ],
        parameterConfig=[{"name": "env", "default": "dev"}],
    )
    assert statuses(execution) == {"1": "SKIPPED", "2": "SUCCEEDED"}
    assert "is False" in execution.stages.get(ref_id="1").context["stageEnabled"]
    assert execution.status == "SUCCEEDED"


def test_a_stage_enabled_expression_that_fails_skips_the_stage_as_orca_does(run_pipeline):
    execution = run_pipeline(
        [stage("1", stageEnabled={"type": "expression", "expression": "nosuch.thing == 1"})]
    )
    assert statuses(execution) == {"1": "SKIPPED"}
    assert "failed at column" in execution.stages.get().context["stageEnabled"]


def test_variables_from_an_evaluate_variables_stage_reach_later_stages(run_pipeline):
    execution = run_pipeline(
        [
            stage(
                "1",
                "evaluateVariables",
                variables=[
                    {"key": "region", "value": "${parameters.env}-east"},
                    {"key": "target", "value": "cluster-${region}"},
                ],
            ),
            stage(
                "2",
                "checkPreconditions",
                after=["1"],
                preconditions=[
                    {
                        "type": "expression",
                        "context": {"expression": "target == 'cluster-prod-east'"},
                    }
                ],
                note="${target}",
            ),
        ],
        trigger={"parameters": {"env": "prod"}},
    )
    assert execution.status == "SUCCEEDED", execution.stages.get(ref_id="2").error
    assert execution.stages.get(ref_id="1").outputs == {
        "region": "prod-east",
        "target": "cluster-prod-east",
    }
    assert execution.stages.get(ref_id="2").context["note"] == "cluster-prod-east"


def test_a_failed_expression_keeps_its_text_and_is_summarised(run_pipeline):
    execution = run_pipeline([stage("1", image="app:${trigger.nosuch.tag}")])
    context = execution.stages.get().context
    assert context["image"] == "app:${trigger.nosuch.tag}"
    [(text, entries)] = context["expressionEvaluationSummary"].items()
    assert entries[0]["level"] == "ERROR"
    assert execution.status == "SUCCEEDED"


def test_fail_on_failed_expressions_makes_the_stage_terminal(run_pipeline):
    execution = run_pipeline(
        [stage("1", image="app:${trigger.nosuch.tag}", failOnFailedExpressions=True)]
    )
    assert execution.status == "TERMINAL"
    assert "expressions failed" in execution.stages.get().error


def test_a_whole_string_expression_keeps_its_type(run_pipeline):
    execution = run_pipeline(
        [stage("1", waitTime="${parameters.seconds}")], trigger={"parameters": {"seconds": 0}}
    )
    assert execution.stages.get().context["waitTime"] == 0
    assert execution.status == "SUCCEEDED"


def test_a_missing_key_is_null_at_stage_start_as_in_orca(run_pipeline):
    execution = run_pipeline([stage("1", region="${parameters.region ?: 'us-east'}")])
    assert execution.stages.get().context["region"] == "us-east"
    assert "expressionEvaluationSummary" not in execution.stages.get().context
