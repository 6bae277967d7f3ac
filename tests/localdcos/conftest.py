"""localdcos as a real subprocess on free ports, with helpers for bounded polling."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import wait_until  # noqa: F401  (the tests here import it from this module)

ROOT = Path(__file__).resolve().parents[2]
# Marathon's defaults are long; tests run localdcos 20x faster instead of sleeping.
TIME_SCALE = "0.05"


class LocalDcos:
    """One `python -m localdcos` process serving clusters `dev` and `prod`; the provider
    tests extend it with their region configs."""

    def __init__(
        self, work_dir: Path, extra: list[str] | None = None, ports: dict[str, int] | None = None
    ):
        self.work_dir = work_dir
        self.extra = extra or []
        self.wanted_ports = ports or {}
        self.process: subprocess.Popen | None = None
        self.ports: dict = {}
        self.session = requests.Session()

    def start(self) -> LocalDcos:
        clusters = []
        for name in ("dev", "prod"):
            clusters += ["--cluster", f"{name}={self.wanted_ports.get(name, 0)}:0"]
        command = [
            sys.executable,
            "-m",
            "localdcos",
            *clusters,
            "--work-dir",
            str(self.work_dir),
            "--time-scale",
            TIME_SCALE,
            "--tick",
            "0.05",
            *self.extra,
        ]
        log = open(self.work_dir.parent / f"{self.work_dir.name}.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, env={**os.environ}
        )
        log.close()
        ready, _, _ = select.select([self.process.stdout], [], [], 20)
        assert ready, "localdcos printed no ports within 20 s"
        line = self.process.stdout.readline()
        assert line, f"localdcos exited: see {self.work_dir}.log"
        self.ports = json.loads(line)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process and self.process.stdout:
            self.process.stdout.close()
        self.session.close()
        self.session = requests.Session()

    def restart(self) -> LocalDcos:
        """The same clusters on the same ports, with the apps they had."""
        self.stop()
        self.wanted_ports = {name: ports["admin"] for name, ports in self.ports.items()}
        return self.start()

    def url(self, cluster: str = "dev") -> str:
        return f"http://127.0.0.1:{self.ports[cluster]['admin']}"

    def request(self, method: str, path: str, cluster: str = "dev", **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.url(cluster) + path, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def app(self, app_id: str) -> dict:
        return self.get(f"/v2/apps{app_id}").json()["app"]

    def create(self, definition: dict) -> requests.Response:
        response = self.request("POST", "/v2/apps", json=definition)
        assert response.status_code == 201, response.text
        return response

    def deployed(self, app_id: str, timeout: float = 15.0) -> dict:
        """Wait until the app has no deployment; its definition then."""

        def settled():
            app = self.app(app_id)
            return app if not app["deployments"] else None

        return wait_until(settled, timeout)

    def running_task_ids(self, app_id: str) -> set[str]:
        return {t["id"] for t in self.app(app_id)["tasks"] if t["state"] == "TASK_RUNNING"}


def pids_in(work_dir: Path) -> list[int]:
    """Live processes whose working directory is under work_dir (tasks localdcos started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd.startswith(str(work_dir)):
            found.append(int(entry.name))
    return found


@pytest.fixture
def localdcos(tmp_path: Path) -> Iterator[LocalDcos]:
    server = LocalDcos(tmp_path / "localdcos").start()
    yield server
    server.stop()
