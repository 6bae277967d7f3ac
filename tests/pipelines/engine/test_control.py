"""Cancel, pause and resume, restart, skip; judgments; execution windows."""

import pytest

from pipelines import services
from pipelines.models import Stage
from tests.pipelines.engine.conftest import stage, statuses


def anyone_may_judge(user, roles):
    return True, ""


def test_cancelling_stops_the_running_stage_and_records_who_and_why(run_pipeline, engine, alice):
    execution = run_pipeline([stage("1", waitTime=300), stage("2", after=["1"])])
    services.execution_cancel(execution=execution, user=alice, reason="wrong build")
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "CANCELED"
    assert (execution.canceled_by, execution.cancellation_reason) == ("alice", "wrong build")
    assert statuses(execution) == {"1": "CANCELED", "2": "NOT_STARTED"}


def test_a_finished_execution_cannot_be_cancelled(run_pipeline, alice):
    execution = run_pipeline([stage("1")])
    with pytest.raises(services.Refused, match="already ended"):
        services.execution_cancel(execution=execution, user=alice)


def test_paused_time_does_not_count_towards_a_wait(run_pipeline, engine, alice):
    execution = run_pipeline([stage("1", waitTime=60)], settle=False)
    engine.run(until=engine.time.replace(second=20))
    services.execution_pause(execution=execution, user=alice)
    engine.advance(100)
    execution.refresh_from_db()
    assert (execution.status, statuses(execution)["1"]) == ("PAUSED", "PAUSED")
    services.execution_resume(execution=execution, user=alice)
    engine.advance(30)
    execution.refresh_from_db()
    assert execution.status == "RUNNING"  # 20 s + 30 s of the 60 s wait
    engine.advance(15)
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"
    assert execution.paused_ms == 100_000


def test_restarting_a_failed_stage_runs_it_and_everything_downstream_again(
    run_pipeline, engine, alice
):
    execution = run_pipeline(
        [
            stage("1"),
            stage(
                "2",
                "checkPreconditions",
                after=["1"],
                preconditions=[
                    {"type": "expression", "context": {"expression": "parameters.go == 'yes'"}}
                ],
            ),
            stage("3", after=["2"]),
        ],
        trigger={"parameters": {"go": "no"}},
    )
    assert execution.status == "TERMINAL"
    execution.trigger["parameters"]["go"] = "yes"
    execution.save()
    services.stage_restart(stage=execution.stages.get(ref_id="2"), user=alice)
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"
    assert statuses(execution) == {"1": "SUCCEEDED", "2": "SUCCEEDED", "3": "SUCCEEDED"}
    details = execution.stages.get(ref_id="2").context["restartDetails"]
    assert details["restartedBy"] == "alice"
    assert "precondition 1" in details["previousException"]


def test_a_running_stage_cannot_be_restarted(run_pipeline, alice):
    execution = run_pipeline([stage("1", waitTime=300)])
    with pytest.raises(services.Refused, match="only a finished stage"):
        services.stage_restart(stage=execution.stages.get(), user=alice)


def test_skipping_a_stage_by_hand_lets_downstream_run(run_pipeline, engine, alice):
    execution = run_pipeline([stage("1", waitTime=300), stage("2", after=["1"])])
    services.stage_update(
        stage=execution.stages.get(ref_id="1"),
        user=alice,
        changes={"manualSkip": True},
        may_judge=anyone_may_judge,
    )
    engine.run()
    execution.refresh_from_db()
    assert statuses(execution) == {"1": "SKIPPED", "2": "SUCCEEDED"}
    assert execution.status == "SUCCEEDED"


def test_skip_remaining_wait_ends_a_wait_early(run_pipeline, engine, alice):
    execution = run_pipeline([stage("1", waitTime=300)])
    services.stage_update(
        stage=execution.stages.get(),
        user=alice,
        changes={"skipRemainingWait": True},
        may_judge=anyone_may_judge,
    )
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"


def judgment(ref="1", **config):
    return stage(
        ref,
        "manualJudgment",
        name="Approve",
        judgmentInputs=[{"value": "ship"}, {"value": "hold"}],
        **config,
    )


def test_a_judgment_waits_then_continues_with_the_judges_input(run_pipeline, engine, alice):
    execution = run_pipeline(
        [
            judgment(),
            stage("2", after=["1"], choice="${#judgment('Approve')}"),
        ]
    )
    engine.advance(3600)
    assert statuses(execution)["1"] == "RUNNING"
    services.stage_update(
        stage=execution.stages.get(ref_id="1"),
        user=alice,
        changes={"judgmentStatus": "continue", "judgmentInput": "ship"},
        may_judge=anyone_may_judge,
    )
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"
    judged = execution.stages.get(ref_id="1").context
    assert (judged["judgmentStatus"], judged["lastModifiedBy"]) == ("continue", "alice")
    assert execution.stages.get(ref_id="2").context["choice"] == "ship"


def test_stop_at_a_judgment_fails_the_pipeline(run_pipeline, engine, alice):
    execution = run_pipeline([judgment()])
    services.stage_update(
        stage=execution.stages.get(),
        user=alice,
        changes={"judgmentStatus": "stop"},
        may_judge=anyone_may_judge,
    )
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "TERMINAL"
    assert "stopped by alice" in execution.stages.get().error


def test_a_refused_judge_gets_told_why_and_nothing_changes(run_pipeline, engine, alice):
    execution = run_pipeline([judgment(selectedStageRoles=["release-managers"])])

    def only_release_managers(user, roles):
        return False, f"only {', '.join(roles)} may judge this stage"

    with pytest.raises(services.JudgmentRefused, match="only release-managers may judge"):
        services.stage_update(
            stage=execution.stages.get(),
            user=alice,
            changes={"judgmentStatus": "continue"},
            may_judge=only_release_managers,
        )
    assert "judgmentStatus" not in execution.stages.get().context


def test_a_judgment_input_outside_the_choices_is_refused(run_pipeline, alice):
    execution = run_pipeline([judgment()])
    with pytest.raises(services.Refused, match="must be one of ship, hold"):
        services.stage_update(
            stage=execution.stages.get(),
            user=alice,
            changes={"judgmentStatus": "continue", "judgmentInput": "yolo"},
            may_judge=anyone_may_judge,
        )


def test_a_judgment_times_out_after_three_days(run_pipeline, engine):
    execution = run_pipeline([judgment()])
    engine.advance(3 * 24 * 3600 + 120)
    execution.refresh_from_db()
    assert execution.status == "TERMINAL"
    assert "timed out" in execution.stages.get().error


WEEKDAY_MORNINGS = {
    "whitelist": [{"startHour": 9, "startMin": 0, "endHour": 11, "endMin": 0}],
    "days": [2, 3, 4, 5, 6],
}


def test_a_stage_waits_for_its_execution_window(run_pipeline, engine):
    # Monday 12:00 UTC: the window opened at 9 and closed at 11; the next is Tuesday 9:00.
    execution = run_pipeline(
        [
            stage(
                "1",
                restrictExecutionDuringTimeWindow=True,
                restrictedExecutionWindow=WEEKDAY_MORNINGS,
            )
        ]
    )
    window = Stage.objects.get(ref_id="1<0")
    assert (window.type, window.status) == ("restrictExecutionDuringTimeWindow", "RUNNING")
    assert window.context["nextWindowStart"] == "2026-01-06T09:00:00+00:00"
    engine.advance(20 * 3600)  # Tuesday 08:00
    assert Stage.objects.get(ref_id="1").status == "RUNNING"
    engine.advance(3600 + 60)
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"
    assert Stage.objects.get(ref_id="1").start_time < Stage.objects.get(ref_id="1<0").end_time


def test_the_window_can_be_skipped_by_hand(run_pipeline, engine, alice):
    execution = run_pipeline(
        [
            stage(
                "1",
                restrictExecutionDuringTimeWindow=True,
                restrictedExecutionWindow=WEEKDAY_MORNINGS,
            )
        ]
    )
    services.stage_update(
        stage=Stage.objects.get(ref_id="1<0"),
        user=alice,
        changes={"skipRemainingWait": True},
        may_judge=anyone_may_judge,
    )
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"


def test_time_in_the_window_does_not_count_towards_the_stage(run_pipeline, engine):
    # The window opens Tuesday 9:00, 21 hours away; the wait is 60 s with a 120 s timeout.
    execution = run_pipeline(
        [
            stage(
                "1",
                waitTime=60,
                overrideTimeout=True,
                stageTimeoutMs=120_000,
                restrictExecutionDuringTimeWindow=True,
                restrictedExecutionWindow=WEEKDAY_MORNINGS,
            )
        ]
    )
    engine.advance(21 * 3600 + 30)
    assert Stage.objects.get(ref_id="1").status == "RUNNING"
    engine.advance(120)
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"
