"""`seed_demo_pipelines` saves every example pipeline for the demo application, valid against
the seeded accounts, once."""

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from pipelines.config import validate_pipeline
from pipelines.models import Pipeline, PipelineRevision

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pipelines"


@pytest.fixture
def demo(db, monkeypatch) -> None:
    monkeypatch.setenv("SPINUI_ADMIN_PASSWORD", "demo-password")
    call_command("seed_demo", stdout=None)


def example_names() -> set[str]:
    return {json.loads(path.read_text())["name"] for path in EXAMPLES.glob("*.json")}


def test_the_talks_pipelines_are_among_the_examples():
    assert {"dev", "prod", "first version"} <= example_names()


def test_it_saves_every_example_for_the_demo_application(demo, capsys):
    call_command("seed_demo_pipelines")
    saved = {p.name: p for p in Pipeline.objects.filter(application__name="hello")}
    assert set(saved) == example_names()
    for pipeline in saved.values():
        errors, unknown_types = validate_pipeline(pipeline.config, "hello")
        assert (errors, unknown_types) == ([], []), pipeline.name
    assert "Created the demo pipeline 'dev'" in capsys.readouterr().out


def test_running_it_again_changes_nothing(demo):
    call_command("seed_demo_pipelines")
    edited = Pipeline.objects.get(name="dev")
    edited.config = {**edited.config, "description": "edited in the UI"}
    edited.save()
    revisions = PipelineRevision.objects.count()
    call_command("seed_demo_pipelines")
    assert PipelineRevision.objects.count() == revisions
    assert Pipeline.objects.get(name="dev").config["description"] == "edited in the UI"


def test_an_example_that_does_not_validate_is_refused_with_its_file_and_path(demo, tmp_path):
    broken = json.loads((EXAMPLES / "dev.json").read_text())
    broken["stages"][2]["requisiteStageRefIds"] = ["9"]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    with pytest.raises(CommandError, match=r"broken.json .*/stages/2/requisiteStageRefIds/0"):
        call_command("seed_demo_pipelines", directory=tmp_path)
    assert not Pipeline.objects.exists()


def test_it_asks_for_seed_demo_first(db):
    with pytest.raises(CommandError, match="Run seed_demo first"):
        call_command("seed_demo_pipelines")
