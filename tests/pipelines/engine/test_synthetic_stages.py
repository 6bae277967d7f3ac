"""Synthetic after and on-failure stages, the mechanism strategies build on. A stage type
defined here plans them; everything else is the real engine."""

import pytest

from pipelines.stages import REGISTRY, Outcome, StageType
from pipelines.status import Status
from tests.pipelines.engine.conftest import stage


class Deployish(StageType):
    type = "deployish"
    label = "Deploy-like"

    def run(self, run):
        ok = run.context.get("outcome") == "ok"
        return Outcome(Status.SUCCEEDED if ok else Status.TERMINAL, error="" if ok else "broke")

    def after_stages(self, context):
        return [
            {"type": "wait", "name": "Settle", "waitTime": 5},
            {"type": "wait", "name": "Shrink", "waitTime": 0},
        ]

    def failure_stages(self, context):
        return [{"type": "wait", "name": "Roll back", "waitTime": 0}]


@pytest.fixture(autouse=True)
def deployish():
    REGISTRY["deployish"] = Deployish()
    yield
    del REGISTRY["deployish"]


def test_after_stages_run_in_order_before_the_stage_completes(run_pipeline, engine):
    execution = run_pipeline([stage("1", "deployish", outcome="ok"), stage("2", after=["1"])])
    engine.advance(10)
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"
    stages = {s.ref_id: s for s in execution.stages.all()}
    assert [(stages[r].name, stages[r].synthetic_owner) for r in ("1>0", "1>1")] == [
        ("Settle", "STAGE_AFTER"),
        ("Shrink", "STAGE_AFTER"),
    ]
    assert stages["1>0"].end_time <= stages["1>1"].start_time
    assert stages["1>1"].end_time <= stages["1"].end_time <= stages["2"].start_time


def test_on_failure_stages_run_and_the_stage_still_fails(run_pipeline, engine):
    execution = run_pipeline([stage("1", "deployish", outcome="bad")])
    execution.refresh_from_db()
    stages = {s.ref_id: s for s in execution.stages.all()}
    assert (stages["1>0"].name, stages["1>0"].status) == ("Roll back", "SUCCEEDED")
    assert (stages["1"].status, stages["1"].error) == ("TERMINAL", "broke")
    assert execution.status == "TERMINAL"


def test_restarting_the_stage_removes_its_synthetic_stages(run_pipeline, engine, alice):
    from pipelines import services

    execution = run_pipeline([stage("1", "deployish", outcome="bad")])
    services.stage_restart(stage=execution.stages.get(ref_id="1"), user=alice)
    assert list(execution.stages.values_list("ref_id", flat=True)) == ["1"]
