"""localdcos benchmark: idle memory, GET /v2/apps with 500 apps, 100 tasks to running.

Run from the repository root: python bench/localdcos_bench.py   (prints one JSON object)
"""

from __future__ import annotations

import json
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def main() -> None:
    work_dir = Path(tempfile.mkdtemp(prefix="localdcos-bench-"))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localdcos",
            "--cluster",
            "dev=0:0",
            "--cluster",
            "prod=0:0",
            "--work-dir",
            str(work_dir),
            "--log-level",
            "WARNING",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready, "localdcos did not start"
        ports = json.loads(process.stdout.readline())
        url = f"http://127.0.0.1:{ports['dev']['admin']}"
        session = requests.Session()
        time.sleep(2)  # settle: imports done, schedulers idle
        watchdogs = children(process.pid)
        idle = rss_mb(process.pid)
        watchdog = sum(rss_mb(pid) for pid in watchdogs)

        for index in range(500):
            response = session.post(
                f"{url}/v2/apps",
                json={
                    "id": f"/bench/app-{index}",
                    "cmd": "sleep 3600",
                    "instances": 0,
                    "labels": {"team": "bench", "index": str(index)},
                    "cpus": 0.1,
                    "mem": 32,
                },
            )
            assert response.status_code == 201, response.text
        session.get(f"{url}/v2/apps")
        timings = []
        for _ in range(30):
            started = time.perf_counter()
            response = session.get(f"{url}/v2/apps")
            timings.append((time.perf_counter() - started) * 1000)
            assert len(response.json()["apps"]) == 500
        body_kb = len(response.content) / 1024

        started = time.perf_counter()
        response = session.post(
            f"{url}/v2/apps",
            json={
                "id": "/bench/hundred",
                "cmd": "sleep 3600",
                "instances": 100,
                "cpus": 0.01,
                "mem": 8,
            },
        )
        assert response.status_code == 201
        running_at = deployed_at = None
        while time.perf_counter() - started < 60:
            app = session.get(f"{url}/v2/apps/bench/hundred").json()["app"]
            now = time.perf_counter() - started
            if running_at is None and app["tasksRunning"] == 100:
                running_at = now
            if running_at is not None and not app["deployments"]:
                deployed_at = now
                break
            time.sleep(0.02)
        loaded = rss_mb(process.pid)
        print(
            json.dumps(
                {
                    "idle_rss_mb_two_clusters": round(idle, 1),
                    "watchdog_rss_mb": round(watchdog, 1),
                    "get_v2_apps_500_apps_ms": {
                        "median": round(statistics.median(timings), 1),
                        "p95": round(sorted(timings)[int(len(timings) * 0.95) - 1], 1),
                        "max": round(max(timings), 1),
                        "body_kb": round(body_kb),
                    },
                    "hundred_tasks_running_s": round(running_at, 2) if running_at else None,
                    "hundred_tasks_deployment_done_s": round(deployed_at, 2)
                    if deployed_at
                    else None,
                    "rss_mb_with_500_apps_and_100_tasks": round(loaded, 1),
                    "targets": {"idle_rss_mb": 80, "get_v2_apps_ms": 50, "hundred_tasks_s": 10},
                },
                indent=2,
            )
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
