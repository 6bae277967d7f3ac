"""Orca's failure options: halt the pipeline, halt the branch, fail once other branches end,
ignore the failure."""

from tests.pipelines.engine.conftest import stage, statuses


def failing(ref: str, after: tuple = (), **options) -> dict:
    return stage(
        ref,
        "checkPreconditions",
        after=after,
        preconditions=[{"type": "expression", "context": {"expression": "1 > 2"}}],
        **options,
    )


def test_a_failed_stage_halts_the_pipeline_and_cancels_the_other_branch(run_pipeline, engine):
    execution = run_pipeline(
        [stage("1"), failing("2", after=["1"]), stage("3", waitTime=300), stage("4", after=["2"])],
    )
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "TERMINAL"
    assert statuses(execution) == {
        "1": "SUCCEEDED",
        "2": "TERMINAL",
        "3": "CANCELED",
        "4": "NOT_STARTED",
    }
    assert "precondition 1 (expression) failed" in execution.stages.get(ref_id="2").error


def test_halting_only_the_branch_lets_the_pipeline_succeed(run_pipeline):
    execution = run_pipeline(
        [failing("1", failPipeline=False), stage("2", after=["1"]), stage("3")]
    )
    assert execution.status == "SUCCEEDED"
    assert statuses(execution) == {"1": "STOPPED", "2": "NOT_STARTED", "3": "SUCCEEDED"}


def test_fail_once_other_branches_complete(run_pipeline, engine):
    execution = run_pipeline(
        [
            failing("1", failPipeline=False, completeOtherBranchesThenFail=True),
            stage("2", waitTime=20),
            stage("3", after=["2"]),
        ],
        settle=False,
    )
    engine.run(until=engine.time.replace(second=10))
    execution.refresh_from_db()
    assert (execution.status, statuses(execution)["2"]) == ("RUNNING", "RUNNING")
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "TERMINAL"
    assert statuses(execution) == {"1": "STOPPED", "2": "SUCCEEDED", "3": "SUCCEEDED"}


def test_ignoring_the_failure_continues_downstream(run_pipeline):
    execution = run_pipeline([failing("1", continuePipeline=True), stage("2", after=["1"])])
    assert execution.status == "SUCCEEDED"
    assert statuses(execution) == {"1": "FAILED_CONTINUE", "2": "SUCCEEDED"}


def test_a_precondition_with_its_own_fail_pipeline_false_only_stops_the_branch(run_pipeline):
    execution = run_pipeline(
        [
            stage(
                "1",
                "checkPreconditions",
                preconditions=[
                    {"type": "expression", "context": {"expression": "true"}},
                    {
                        "type": "expression",
                        "context": {"expression": "false"},
                        "failPipeline": False,
                    },
                ],
            )
        ]
    )
    assert statuses(execution) == {"1": "STOPPED"}
    assert "precondition 2" in execution.stages.get().error
    assert execution.status == "SUCCEEDED"


def test_a_stage_status_precondition_reads_another_stage(run_pipeline):
    execution = run_pipeline(
        [
            stage("1", name="Bake"),
            stage(
                "2",
                "checkPreconditions",
                after=["1"],
                preconditions=[
                    {
                        "type": "stageStatus",
                        "context": {"stageName": "Bake", "stageStatus": "SUCCEEDED"},
                    }
                ],
            ),
        ]
    )
    assert execution.status == "SUCCEEDED"


def test_a_timeout_fails_the_stage_with_the_reason(run_pipeline, engine):
    execution = run_pipeline(
        [stage("1", waitTime=120, overrideTimeout=True, stageTimeoutMs=30_000)], settle=False
    )
    engine.advance(200)
    execution.refresh_from_db()
    assert execution.status == "TERMINAL"
    assert "timed out after" in execution.stages.get().error


def test_a_timeout_can_come_from_a_parameter(run_pipeline, engine):
    execution = run_pipeline(
        [stage("1", waitTime=120, overrideTimeout=True, stageTimeoutMs="${parameters.ms}")],
        settle=False,
        parameterConfig=[{"name": "ms", "default": "30000"}],
    )
    engine.advance(200)  # without the timeout the wait would succeed
    execution.refresh_from_db()
    assert execution.status == "TERMINAL"
    assert "timed out after" in execution.stages.get().error


def test_a_timeout_expression_that_gives_no_number_fails_the_stage_when_it_starts(run_pipeline):
    execution = run_pipeline(
        [stage("1", overrideTimeout=True, stageTimeoutMs="${parameters.ms}")],
        parameterConfig=[{"name": "ms", "default": "soon"}],
    )
    assert execution.status == "TERMINAL"
    assert execution.stages.get().error == "stageTimeoutMs is 'soon', not a positive number of ms"
