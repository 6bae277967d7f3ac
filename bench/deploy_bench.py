"""Deploy stage latency: from Marathon's deployment finishing to the stage SUCCEEDED.

    python bench/deploy_bench.py [--runs 20] [--workers 2] [--broker redis://127.0.0.1:6379/13]

(repository root, venv python; without --broker, the embedded filesystem broker).

Starts localdcos (one cluster at its real defaults: --time-scale 1, --tick 0.1), real Celery
workers (`--pool=solo`) and beat (whose sweeper recovers a lost message) on a fresh embedded
SQLite database under a temporary SPINUI_VAR_DIR (the filesystem broker there too, unless
--broker names another). Then RUNS orchestrations of one deploy stage (one `spinui/hello`
instance with an HTTP health check, so Marathon's deployment ends at a moment unrelated to
the stage's looks), one after another. For each, the time from the timestamp Marathon puts
on the create's `deployment_success` event to the stage's `endTime`. Prints JSON.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from marathon_events import marathon_events  # noqa: E402 - the bench folder is on sys.path


def setup(broker: str) -> None:
    os.environ["SPINUI_VAR_DIR"] = tempfile.mkdtemp(prefix="spinui-deploy-bench-")
    for name in ("DATABASE_URL", "SPINUI_ENCRYPTION_KEYS", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    if broker:
        os.environ["CELERY_BROKER_URL"] = broker
    os.environ["SPINUI_INFRASTRUCTURE_REFRESH_SECONDS"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spinui.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def start_celery(workers: int) -> list[subprocess.Popen]:
    """WORKERS worker processes, and beat for the sweeper, as `make run` has them."""
    celery = [sys.executable, "-m", "celery", "-A", "spinui"]
    commands = [
        [*celery, "worker", "--pool=solo", "--without-mingle", "--without-gossip"]
        + ["--loglevel=WARNING", "-n", f"deploybench{index}@%h"]
        for index in range(workers)
    ]
    commands.append([*celery, "beat", "--loglevel=WARNING"])
    return [
        subprocess.Popen(
            command,
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(os.environ["SPINUI_VAR_DIR"]) / f"celery-{index}.log", "wb"),  # noqa: SIM115
        )
        for index, command in enumerate(commands)
    ]


def listen(url: str, finished: dict[str, float], stop: threading.Event) -> None:
    """Marathon's own timestamp on each app's deployment_success."""
    for event, stamp in marathon_events(url, "deployment_success", stop):
        finished.setdefault(event["plan"]["steps"][0]["actions"][0]["app"], stamp)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


def bench(runs: int, workers: int) -> dict:
    import requests
    from django.conf import settings
    from django.contrib.auth.models import User

    from pipelines import services
    from pipelines.models import Execution
    from pipelines.stages.deploy import poll_seconds
    from pipelines.status import COMPLETE
    from spinui.models import Account, Application, Region
    from tests.providers.conftest import LocalDcos, wait_until

    work = Path(tempfile.mkdtemp(prefix="spinui-deploy-bench-localdcos-"))
    server = LocalDcos(work / "localdcos", ["--time-scale", "1", "--tick", "0.1"]).start()
    processes = start_celery(workers)
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
                    "healthChecks": [
                        {
                            "protocol": "HTTP",
                            "path": "/health",
                            "portIndex": 0,
                            "intervalSeconds": 1,
                            "gracePeriodSeconds": 30,
                            "timeoutSeconds": 2,
                        }
                    ],
                }
            ],
        }
        latencies = []
        for _ in range(runs):
            execution = services.orchestration_start(
                application=app, description="bench", stages=[stage], user=user
            )
            deadline = time.monotonic() + 60
            while (status := Execution.objects.get(id=execution.id).status) not in COMPLETE:
                deployed = execution.stages.get()
                assert time.monotonic() < deadline, (
                    f"run {len(latencies)}: still {deployed.status} after 60 s: "
                    f"wake_at {deployed.wake_at}, logs in {os.environ['SPINUI_VAR_DIR']}, "
                    f"waiting for {deployed.context.get('waitingFor')}"
                )
                time.sleep(0.05)
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
        "workers": f"{workers} × celery --pool=solo, and beat (the sweeper)",
        "broker": settings.CELERY_BROKER_URL.split("://")[0],
        "deploy_poll_seconds": poll_seconds(),
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
    parser.add_argument("--broker", default="", help="a CELERY_BROKER_URL; default embedded")
    args = parser.parse_args()
    setup(args.broker)
    print(json.dumps(bench(args.runs, args.workers)))


if __name__ == "__main__":
    main()
