"""The beat refresh: scheduled from settings, one message per region."""

import json
import os
import subprocess
import sys

from spinui import tasks
from spinui.models import ServerGroup

from .conftest import region_of


def beat_schedule(tmp_path, **env) -> dict:
    """CELERY_BEAT_SCHEDULE as a fresh process with ENV reads it."""
    environ = {k: v for k, v in os.environ.items() if k != "SPINUI_INFRASTRUCTURE_REFRESH_SECONDS"}
    environ |= {"SPINUI_VAR_DIR": str(tmp_path), **env}
    probe = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.CELERY_BEAT_SCHEDULE))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", probe],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_the_refresh_runs_every_15_seconds_by_default(tmp_path):
    entry = beat_schedule(tmp_path)["infrastructure-refresh"]

    assert entry == {"task": "spinui.tasks.infrastructure_refresh", "schedule": 15.0}


def test_the_interval_comes_from_the_environment_and_0_turns_it_off(tmp_path):
    five = beat_schedule(tmp_path, SPINUI_INFRASTRUCTURE_REFRESH_SECONDS="5")
    off = beat_schedule(tmp_path, SPINUI_INFRASTRUCTURE_REFRESH_SECONDS="0")

    assert five["infrastructure-refresh"]["schedule"] == 5.0
    assert "infrastructure-refresh" not in off
    assert "sweep-executions" in off


def test_a_region_refresh_task_reads_its_region(localdcos, db):
    localdcos.create({"id": "/dev/hello-v000", "instances": 0})
    region = region_of(localdcos)

    tasks.region_refresh.apply(args=(region.pk,))
    tasks.region_refresh.apply(args=(region.pk + 1000,))

    assert ServerGroup.objects.get().name == "hello-v000"


def test_the_beat_task_sends_one_message_per_region(db, monkeypatch):
    region_of(None, url="http://a.invalid")
    region_of(None, account="prod", cluster="prod", url="http://b.invalid")
    sent = []
    monkeypatch.setattr(
        tasks.region_refresh, "apply_async", lambda args, **options: sent.append((args, options))
    )

    tasks.infrastructure_refresh.apply()

    assert len(sent) == 2
    assert all(options["expires"] == 15 for _, options in sent)
