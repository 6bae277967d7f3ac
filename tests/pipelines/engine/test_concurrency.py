"""limitConcurrent, keepWaitingPipelines and maxConcurrentExecutions."""

from pipelines import services
from pipelines.models import Execution
from tests.pipelines.engine.conftest import stage


def start_three(run_pipeline, engine, alice, **config):
    pipeline = run_pipeline.save([stage("1", waitTime=10)], **config)
    executions = []
    for _ in range(3):
        executions.append(services.execution_start(pipeline=pipeline, trigger=None, user=alice))
        engine.run(until=engine.time)
    return executions


def refreshed(executions):
    return [Execution.objects.get(id=e.id).status for e in executions]


def test_limit_concurrent_queues_and_then_runs_only_the_newest(run_pipeline, engine, alice):
    executions = start_three(run_pipeline, engine, alice, limitConcurrent=True)
    assert refreshed(executions) == ["RUNNING", "NOT_STARTED", "NOT_STARTED"]
    engine.advance(11)
    assert refreshed(executions) == ["SUCCEEDED", "CANCELED", "RUNNING"]
    superseded = Execution.objects.get(id=executions[1].id)
    assert "superseded" in superseded.cancellation_reason
    engine.advance(11)
    assert refreshed(executions) == ["SUCCEEDED", "CANCELED", "SUCCEEDED"]


def test_keep_waiting_pipelines_runs_the_queue_in_order(run_pipeline, engine, alice):
    executions = start_three(
        run_pipeline, engine, alice, limitConcurrent=True, keepWaitingPipelines=True
    )
    engine.advance(11)
    assert refreshed(executions) == ["SUCCEEDED", "RUNNING", "NOT_STARTED"]
    engine.advance(11)
    assert refreshed(executions) == ["SUCCEEDED", "SUCCEEDED", "RUNNING"]


def test_without_a_limit_executions_run_side_by_side(run_pipeline, engine, alice):
    executions = start_three(run_pipeline, engine, alice)
    assert refreshed(executions) == ["RUNNING", "RUNNING", "RUNNING"]


def test_max_concurrent_executions_caps_how_many_run(run_pipeline, engine, alice):
    executions = start_three(run_pipeline, engine, alice, maxConcurrentExecutions=2)
    assert refreshed(executions) == ["RUNNING", "RUNNING", "NOT_STARTED"]
    engine.advance(11)
    assert refreshed(executions)[2] in ("RUNNING", "SUCCEEDED")
