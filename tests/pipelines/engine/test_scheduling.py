"""The DAG: stages start when their requisites are done, branches run in parallel, joins wait."""

from pipelines.models import ExecutionEvent
from tests.pipelines.engine.conftest import stage, statuses


def test_a_pipeline_of_waits_runs_to_success(run_pipeline):
    execution = run_pipeline([stage("1"), stage("2", after=["1"]), stage("3", after=["2"])])
    assert execution.status == "SUCCEEDED"
    assert statuses(execution) == {"1": "SUCCEEDED", "2": "SUCCEEDED", "3": "SUCCEEDED"}
    ends = [s.end_time for s in execution.stages.order_by("ref_id")]
    assert ends == sorted(ends)


def test_a_trivial_stage_costs_one_message(run_pipeline, engine):
    run_pipeline([stage("1"), stage("2", after=["1"]), stage("3", after=["2"])])
    names = [name for name, _ in engine.sent]
    assert names == ["start_execution", "start_stage", "start_stage", "start_stage"]


def test_parallel_branches_join_before_the_stage_that_needs_both(run_pipeline, engine):
    execution = run_pipeline(
        [
            stage("1"),
            stage("2", after=["1"], waitTime=30),
            stage("3", after=["1"], waitTime=10),
            stage("4", after=["2", "3"]),
        ],
        settle=False,
    )
    engine.run(until=engine.time.replace(second=15))
    assert statuses(execution) == {
        "1": "SUCCEEDED",
        "2": "RUNNING",
        "3": "SUCCEEDED",
        "4": "NOT_STARTED",
    }
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"
    four = execution.stages.get(ref_id="4")
    two = execution.stages.get(ref_id="2")
    assert four.start_time >= two.end_time


def test_every_status_change_writes_an_event(run_pipeline):
    execution = run_pipeline([stage("1"), stage("2", after=["1"])])
    events = [(e.stage.ref_id if e.stage else None, e.status) for e in ExecutionEvent.objects.all()]
    assert events == [
        (None, "NOT_STARTED"),
        (None, "RUNNING"),
        ("1", "RUNNING"),
        ("1", "SUCCEEDED"),
        ("2", "RUNNING"),
        ("2", "SUCCEEDED"),
        (None, "SUCCEEDED"),
    ]
    assert execution.status == "SUCCEEDED"


def test_a_wait_waits_its_time_without_holding_a_worker(run_pipeline, engine):
    execution = run_pipeline([stage("1", waitTime=45)], settle=False)
    engine.run(until=engine.time.replace(second=44))
    execution.refresh_from_db()
    assert execution.status == "RUNNING"
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"
    assert [name for name, _ in engine.sent].count("run_stage") == 1


def test_a_long_wait_is_fired_by_the_sweeper_not_a_countdown(run_pipeline, engine):
    execution = run_pipeline([stage("1", waitTime=600)])
    assert execution.status == "RUNNING"
    assert not engine.queue  # nothing in the broker for ten minutes
    engine.advance(601)
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"
