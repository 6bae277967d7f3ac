"""Real Celery worker and beat processes on a broker of their own, sharing the test database:
what the engine's worker tests and the end-to-end pipeline tests run executions on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from pipelines.engine import messages

REPO = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The test database this process uses, for the workers to share."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Cluster:
    """Worker and beat processes on a broker of their own, and a client that sends to it.
    ENV adds settings for the processes (spinui reads them from the environment)."""

    def __init__(
        self, tmp_path: Path, broker_url: str | None, env: dict[str, str] | None = None
    ) -> None:
        self.tmp_path = tmp_path
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "DATABASE_URL")
        }
        self.env |= {
            "DATABASE_URL": database_url(),
            "SPINUI_VAR_DIR": str(tmp_path),
            "SPINUI_ENCRYPTION_KEYS": ",".join(settings.SPINUI_ENCRYPTION_KEYS),
            "SPINUI_SWEEP_INTERVAL": "0.5",
            "SPINUI_ENGINE_LEASE_SECONDS": "3",
            **(env or {}),
        }
        if broker_url:
            self.env["CELERY_BROKER_URL"] = broker_url
            self.client = Celery(broker=broker_url)
        else:
            folder = tmp_path / "broker"
            for sub in ("queue", "processed"):
                (folder / sub).mkdir(parents=True, exist_ok=True)
            self.client = Celery(broker="filesystem://")
            self.client.conf.broker_transport = "spinui.broker:Transport"
            self.client.conf.broker_transport_options = {
                "data_folder_in": str(folder / "queue"),
                "data_folder_out": str(folder / "queue"),
                "processed_folder": str(folder / "processed"),
                "store_processed": False,
            }
        self.client.conf.task_serializer = "json"
        self.processes: list[subprocess.Popen] = []

    def send(self, name: str, args: tuple, delay: float) -> None:
        self.client.send_task(
            f"pipelines.tasks.{name}", args=list(args), countdown=delay if delay > 0 else None
        )

    def start(self, *command: str) -> subprocess.Popen:
        log = open(self.tmp_path / f"{command[0]}-{len(self.processes)}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "spinui", *command, "--loglevel=INFO"],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def worker(self) -> subprocess.Popen:
        return self.start("worker", "--pool=solo", "--without-mingle", "--without-gossip")

    def beat(self) -> subprocess.Popen:
        return self.start("beat", "--schedule", str(self.tmp_path / "beat-schedule"))

    def kill(self, process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in self.tmp_path.glob("*.log"))


@pytest.fixture
def cluster(transactional_db, tmp_path, monkeypatch):
    """cluster(broker_url=None, env=None): a Cluster that this test's messages go to."""
    # Celery lets CELERY_BROKER_URL override the broker an app is given: the client here must
    # talk to this test's own broker, never the one CI exports for the suite.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    made = []

    def make(broker_url: str | None = None, env: dict[str, str] | None = None) -> Cluster:
        cluster = Cluster(tmp_path, broker_url, env)
        monkeypatch.setattr(messages, "sender", cluster.send)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.stop()
