"""Redelivered, duplicated and lost messages change nothing but timing."""

from pipelines.engine import handlers, messages
from pipelines.models import ExecutionEvent
from tests.pipelines.engine.conftest import stage, statuses


def test_a_message_delivered_twice_makes_no_second_transition(run_pipeline, engine, monkeypatch):
    execution = run_pipeline([stage("1", waitTime=5), stage("2", after=["1"])], settle=False)
    original = engine.send

    def twice(name, args, delay):
        original(name, args, delay)
        original(name, args, delay)

    monkeypatch.setattr(messages, "sender", twice)
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"
    transitions = list(ExecutionEvent.objects.values_list("stage__ref_id", "status"))
    assert transitions.count(("1", "RUNNING")) == 1
    assert transitions.count(("1", "SUCCEEDED")) == 1
    assert transitions.count((None, "SUCCEEDED")) == 1


def test_a_lost_start_message_is_recovered_by_the_sweeper(run_pipeline, engine):
    engine.drop_next = {"start_stage"}
    execution = run_pipeline([stage("1"), stage("2", after=["1"])])
    assert statuses(execution) == {"1": "NOT_STARTED", "2": "NOT_STARTED"}
    engine.advance(10)
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"


def test_a_lost_wake_up_is_recovered_by_the_sweeper(run_pipeline, engine):
    engine.drop_next = {"run_stage"}
    execution = run_pipeline([stage("1", waitTime=5)])
    engine.run()
    assert execution.stages.get().status == "RUNNING"
    engine.advance(10)
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"


def test_a_worker_that_died_mid_stage_leaves_a_lease_the_sweeper_retries(
    run_pipeline, engine, settings
):
    settings.SPINUI_ENGINE_LEASE_SECONDS = 30
    execution = run_pipeline([stage("1", waitTime=5)], settle=False)
    engine.run(until=engine.time)  # the stage started and is waiting
    wait = execution.stages.get()
    # A worker claims the wake-up (its lease is written) and dies before recording.
    engine.queue.clear()
    engine.time = wait.wake_at
    handlers.Stage.objects.filter(id=wait.id).update(
        wake_at=handlers.now() + handlers.timedelta(seconds=30)
    )
    engine.advance(20)
    assert execution.stages.get().status == "RUNNING"
    engine.advance(20)
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"


def test_the_sweeper_is_harmless_when_nothing_is_lost(run_pipeline, engine):
    execution = run_pipeline([stage("1", waitTime=5)])
    for _ in range(3):
        handlers.sweep(grace_seconds=0)
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"
    assert ExecutionEvent.objects.filter(stage__isnull=False, status="SUCCEEDED").count() == 1


def test_the_sweeper_does_not_read_executions_that_wait_on_a_timer(
    run_pipeline, engine, alice, django_assert_max_num_queries
):
    from pipelines import services

    pipeline = run_pipeline.save([stage("1", "manualJudgment", name="Approve")], name="gate")
    for _ in range(30):
        services.execution_start(pipeline=pipeline, trigger=None, user=alice)
    engine.run()
    engine.time += handlers.timedelta(seconds=30)
    with django_assert_max_num_queries(3):
        assert handlers.sweep() == 0
