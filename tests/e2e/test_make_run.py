"""`make run` on a copy of the repository with nothing configured: web, worker and beat start,
the demo is seeded, and the login page answers."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
CONFIGURED = ("DATABASE_URL", "CELERY_BROKER_URL", "SPINUI_ENCRYPTION_KEYS", "SPINUI_VAR_DIR")


def copy_of_the_repository(target: Path) -> Path:
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in tracked:
        if (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    return target


@pytest.mark.slow
def test_make_run_starts_everything_and_serves_the_login_page(tmp_path):
    checkout = copy_of_the_repository(tmp_path / "spinui")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in CONFIGURED}
    env |= {
        "SPINUI_PORT": str(port),
        "LOCALDCOS_DEV_PORT": "0",
        "LOCALDCOS_DEV_ROUTER_PORT": "0",
        "LOCALDCOS_PROD_PORT": "0",
        "LOCALDCOS_PROD_ROUTER_PORT": "0",
    }
    log = (tmp_path / "make-run.log").open("w+")
    # The suite's own virtualenv stands in for the one `make run` would create.
    make = subprocess.Popen(
        ["make", "run", f"VENV={sys.prefix}", f"PYTHON={sys.executable}"],
        cwd=checkout,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        login = wait_for_login_page(f"http://127.0.0.1:{port}/login/", make, log)
        assert "Log in to spinui" in login.text
        output = wait_for_output(log, ["log in as admin /", "celery@", "beat: Starting"], make)
        assert "spinui is at http://127.0.0.1:8000/" in output
        assert (checkout / "var" / "spinui.sqlite3").exists()
        assert len(session_processes(make.pid)) >= 4  # make, honcho, web, worker, beat
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        try:
            make.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait(timeout=10)
    assert_nothing_left_running(make.pid)


def wait_for_login_page(url: str, make: subprocess.Popen, log) -> requests.Response:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if make.poll() is not None:
            pytest.fail(f"make run exited with {make.returncode}:\n{read(log)}")
        try:
            response = requests.get(url, timeout=2)
            if response.status_code == 200:
                return response
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    pytest.fail(f"no login page at {url} within 240 s:\n{read(log)}")


def wait_for_output(log, needles: list[str], make: subprocess.Popen) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        output = read(log)
        if all(needle in output for needle in needles):
            return output
        time.sleep(0.5)
    pytest.fail(f"never saw all of {needles}:\n{read(log)}")


def read(log) -> str:
    log.flush()
    log.seek(0)
    return log.read()


def session_processes(session: int) -> list[str]:
    return subprocess.run(
        ["pgrep", "-s", str(session)], capture_output=True, text=True
    ).stdout.split()


def assert_nothing_left_running(session: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not (left := session_processes(session)):
            return
        time.sleep(0.5)
    pytest.fail(f"processes of make run still running: {left}")
