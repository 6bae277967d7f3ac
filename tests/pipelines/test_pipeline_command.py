import json

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from pipelines.models import Pipeline
from spinui.models import Application

SPINNAKER_EXPORT = [
    {
        "id": "7d6c5b4a-0000-4000-8000-000000000001",
        "application": "hello",
        "name": "Deploy",
        "stages": [{"refId": "1", "type": "wait", "name": "Wait", "waitTime": 5}],
        "triggers": [],
    },
    {
        "id": "7d6c5b4a-0000-4000-8000-000000000002",
        "application": "hello",
        "name": "Promote",
        "stages": [{"refId": "1", "type": "manualJudgment", "name": "Approve"}],
    },
]


@pytest.fixture
def setup(db):
    User.objects.create_user("admin")
    Application.objects.create(name="hello", email="t@example.com")


def test_import_then_export_round_trips_spinnakers_json(setup, tmp_path, capsys):
    source = tmp_path / "pipelines.json"
    source.write_text(json.dumps(SPINNAKER_EXPORT))
    call_command("pipeline", "import", "-f", str(source))
    assert "created" in capsys.readouterr().out
    call_command("pipeline", "export", "hello")
    exported = json.loads(capsys.readouterr().out)
    assert exported == sorted(SPINNAKER_EXPORT, key=lambda p: p["name"])


def test_apply_saves_only_what_changed(setup, tmp_path, capsys):
    source = tmp_path / "pipelines.json"
    source.write_text(json.dumps(SPINNAKER_EXPORT))
    call_command("pipeline", "apply", "-f", str(source))
    changed = json.loads(json.dumps(SPINNAKER_EXPORT))
    changed[0]["stages"][0]["waitTime"] = 9
    source.write_text(json.dumps(changed))
    capsys.readouterr()
    call_command("pipeline", "apply", "-f", str(source))
    out = capsys.readouterr().out
    assert "[0] Deploy: updated" in out
    assert "[1] Promote: unchanged" in out
    assert Pipeline.objects.get(name="Deploy").revisions.count() == 2
    assert Pipeline.objects.get(name="Promote").revisions.count() == 1


def test_an_invalid_file_says_which_pipeline_and_path(setup, tmp_path, capsys):
    bad = [{**SPINNAKER_EXPORT[0], "stages": [{"refId": "1", "type": "wait", "waitTime": -1}]}]
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(bad))
    with pytest.raises(CommandError, match="some pipelines were not saved"):
        call_command("pipeline", "import", "-f", str(source))
    assert "[0] Deploy: /stages/0/waitTime: cannot be negative" in capsys.readouterr().err
    assert not Pipeline.objects.exists()


def test_malformed_json_is_refused_with_where(setup, tmp_path):
    source = tmp_path / "broken.json"
    source.write_text('{"name": ')
    with pytest.raises(CommandError, match="is not valid JSON: Expecting value: line 1"):
        call_command("pipeline", "import", "-f", str(source))
