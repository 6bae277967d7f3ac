"""manage.py expression eval."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from .conftest import prod_stage_root

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def context_file(tmp_path):
    path = tmp_path / "context.json"
    path.write_text(json.dumps(prod_stage_root()))
    return path


def evaluate(*args) -> object:
    out = StringIO()
    call_command("expression", "eval", *args, stdout=out)
    return json.loads(out.getvalue())


def test_it_prints_the_value_as_json(context_file):
    assert evaluate("image-${trigger.tag}", "--context", str(context_file)) == "image-v1.4.2"
    assert evaluate("${#stage('Smoke test').status}", "--context", str(context_file)) == (
        "SUCCEEDED"
    )
    assert evaluate("${ports}", "--context", str(context_file)) == [8080, 9090]


def test_it_works_without_a_context():
    assert evaluate("${{1, 2}.![#this * 2]}") == [2, 4]


def test_it_knows_the_current_stage_when_told(context_file):
    args = ["${#currentStage().name}", "--context", str(context_file), "--current-stage-id"]
    assert evaluate(*args, "s-prod") == "Deploy to prod"


def test_it_reports_the_error_with_its_column(context_file):
    with pytest.raises(CommandError) as caught:
        evaluate("${trigger.tga}", "--context", str(context_file))
    message = str(caught.value)
    assert message.startswith("column 11: property 'tga' not found")
    assert message.splitlines()[-1] == "  " + " " * 10 + "^"


def test_it_refuses_a_context_that_is_not_a_json_object(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("[1, 2]")
    with pytest.raises(CommandError, match="must hold a JSON object"):
        evaluate("${1}", "--context", str(path))


def test_it_exits_non_zero_on_an_error_when_run_as_a_program(context_file):
    command = [sys.executable, "manage.py", "expression", "eval", "${T(java.lang.Runtime)}"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "column 3: T(java.lang.Runtime) is not allowed" in result.stderr
    ok = subprocess.run(
        [sys.executable, "manage.py", "expression", "eval", "${trigger.tag}"]
        + ["--context", str(context_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0
    assert ok.stdout.strip() == '"v1.4.2"'
