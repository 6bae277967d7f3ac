"""Run a pipeline, watch it live and judge it, in Chromium."""

import pytest
from django.contrib.auth.models import Group, User
from guardian.shortcuts import assign_perm
from playwright.sync_api import expect

from pipelines import services
from pipelines.models import Execution
from tests.pipelines.engine.conftest import stage


@pytest.fixture
def release_manager(app):
    user = User.objects.create_user("rhea", password="rhea-pass-1")
    user.groups.add(Group.objects.create(name="release-managers"))
    for level in ("read", "execute"):
        assign_perm(f"{level}_application", user, app)
    return user


def test_a_release_manager_runs_watches_and_approves_a_pipeline(
    page, live_server, engine, app, alice, release_manager
):
    services.pipeline_save(
        actor=alice,
        application=app,
        config={
            "name": "Release",
            "parameterConfig": [{"name": "version", "required": True}],
            "stages": [
                stage("1", waitTime=0, name="Prepare"),
                stage(
                    "2",
                    "manualJudgment",
                    after=["1"],
                    name="Approve",
                    instructions="Ship ${parameters.version}?",
                    selectedStageRoles=["release-managers"],
                ),
            ],
        },
    )
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "rhea")
    page.fill("input[name=password]", "rhea-pass-1")
    page.click("button:has-text('Log in')")
    page.goto(f"{live_server.url}/applications/hello/pipelines/")
    page.click("text=Run")
    page.click("button:has-text('Run')")
    expect(page.locator(".error")).to_contain_text("This field is required.")
    page.fill("input[name=version]", "4.2.0")
    page.click("button:has-text('Run')")
    expect(page.locator("h2")).to_contain_text("Release")

    engine.run()  # the workers' part: the first stage runs, the judgment waits
    expect(page.locator(".instructions")).to_have_text("Ship 4.2.0?", timeout=10_000)
    page.click("button:has-text('Continue')")
    engine.run()
    expect(page.locator("h2 .status-badge")).to_have_text("SUCCEEDED", timeout=10_000)
    execution = Execution.objects.get()
    judged = execution.stages.get(ref_id="2").context
    assert (judged["judgmentStatus"], judged["lastModifiedBy"]) == ("continue", "rhea")
