"""Deploy stage latency: from Marathon's deployment finishing to the stage SUCCEEDED.

    python bench/deploy_bench.py [--runs 20] [--workers 2]   (repository root, venv python)

Starts localdcos (one cluster at its real defaults: --time-scale 1, --tick 0.1) and real
Celery workers (`--pool=solo`) on a fresh embedded SQLite database and filesystem broker
under a temporary SPINUI_VAR_DIR, then runs RUNS orchestrations of one deploy stage (one
`spinui/hello` instance, no health check). For each, the time from the timestamp Marathon
puts on the create's `deployment_success` event to the stage's `endTime`. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup() -> None:
    os.environ["SPINUI_VAR_DIR"] = tempfile.mkdtemp(prefix="spinui-deploy-bench-")
    for name in ("DATABASE_URL", "SPINUI_ENCRYPTION_KEYS", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    os.environ["SPINUI_INFRASTRUCTURE_REFRESH_SECONDS"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spinui.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def start_workers(count: int) -> list[subprocess.Popen]:
    command = [sys.executable, "-m", "celery", "-A", "spinui", "worker", "--pool=solo"]
    return [
        subprocess.Popen(
            [*command, "--loglevel=WARNING", "--without-mingle", "--without-gossip"]
            + ["-n", f"deploybench{index}@%h"],
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for index in range(count)
    ]


def listen(url: str, finished: dict[str, float], stop: threading.Event) -> None:
    """Marathon's own timestamp on each app's deployment_success."""
    import requests

    with requests.get(
        url + "/v2/events?event_type=deployment_success",
        headers={"Accept": "text/event-stream"},
        stream=True,
        timeout=(5, 120),
    ) as response:
        for line in response.iter_lines(decode_unicode=True):
            if stop.is_set():
                return
            if line and line.startswith("data:"):
                event = json.loads(line[5:])
                app_id = event["plan"]["steps"][0]["actions"][0]["app"]
                stamp = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
                finished.setdefault(app_id, stamp.timestamp())


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


def bench(runs: int, workers: int) -> dict:
    import requests
    from django.conf import settings
    from django.contrib.auth.models import User

    from pipelines import services
    from pipelines.models import Execution
    from pipelines.status import COMPLETE
    from spinui.models import Account, Application, Region
    from tests.providers.conftest import LocalDcos, wait_until

    work = Path(tempfile.mkdtemp(prefix="spinui-deploy-bench-localdcos-"))
    server = LocalDcos(work / "localdcos", ["--time-scale", "1", "--tick", "0.1"]).start()
    processes = start_workers(workers)
    stop, finished = threading.Event(), {}
    try:
        user = User.objects.create_superuser("bench", "bench@example.com", "bench-pass-1")
        app = Application.objects.create(name="hello", email="team@example.com")
        account = Account.objects.create(name="dev", environment="dev")
        Region.objects.create(account=account, name="dev", url=server.url())
        threading.Thread(target=listen, args=(server.url(), finished, stop), daemon=True).start()
        time.sleep(3)  # workers up
        stage = {
            "type": "deploy",
            "clusters": [
                {
                    "account": "dev",
                    "region": "dev",
                    "capacity": {"desired": 1},
                    "docker": {"image": {"imageId": "spinui/hello:1.0"}},
                    "cpus": 0.01,
                    "mem": 16,
                }
            ],
        }
        latencies = []
        for _ in range(runs):
            execution = services.orchestration_start(
                application=app, description="bench", stages=[stage], user=user
            )
            status = wait_until(
                lambda e=execution: (
                    Execution.objects.get(id=e.id).status in COMPLETE
                    and Execution.objects.get(id=e.id).status
                ),
                timeout=60,
            )
            deployed = execution.stages.get()
            assert status == "SUCCEEDED", f"the deploy ended {status}: {deployed.error}"
            app_id = deployed.context["deployments"][0]["marathonId"]
            at = wait_until(lambda a=app_id: finished.get(a), timeout=5)
            latencies.append((deployed.end_time.timestamp() - at) * 1000)
            requests.delete(f"{server.url()}/v2/apps{app_id}?force=true", timeout=5)
    finally:
        stop.set()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
        server.stop()
    return {
        "runs": runs,
        "workers": f"{workers} × celery --pool=solo",
        "deploy_poll_seconds": getattr(settings, "SPINUI_DEPLOY_POLL_SECONDS", 0.5),
        "deployment_gone_to_stage_succeeded": {
            "median_ms": round(statistics.median(latencies), 1),
            "p95_ms": percentile(latencies, 0.95),
            "max_ms": round(max(latencies), 1),
            "min_ms": round(min(latencies), 1),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    setup()
    print(json.dumps(bench(args.runs, args.workers)))


if __name__ == "__main__":
    main()
