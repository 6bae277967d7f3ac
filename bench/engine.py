"""Engine benchmark: stage-to-stage latency, throughput up to saturation, and a raw Celery
round trip for comparison, on real worker processes. Prints JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/spinui_bench \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \
    SPINUI_ENCRYPTION_KEYS=<a Fernet key> \
    python bench/engine.py [--workers 2] [--rates 5,10,20,30,40] [--seconds 15] [--sustain 60]

The database named in DATABASE_URL is created if missing and emptied of executions first.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spinui.settings")
os.environ.setdefault("CELERY_RESULT_BACKEND", os.environ.get("CELERY_BROKER_URL", ""))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 2)


def create_database() -> None:
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        return
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname="postgres",
        autocommit=True,
    ) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{db["NAME"]}"')


def start_workers(count: int) -> list[subprocess.Popen]:
    workers = []
    for index in range(count):
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "spinui",
                    "worker",
                    "--pool=solo",
                    "--loglevel=WARNING",
                    "--without-mingle",
                    "--without-gossip",
                    "-n",
                    f"bench{index}@%h",
                ],
                cwd=REPO,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return workers


def celery_round_trip(samples: int = 200) -> dict:
    from spinui.celery import app

    app.conf.result_backend = os.environ["CELERY_RESULT_BACKEND"]
    app.conf.task_ignore_result = False
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        app.send_task("celery.accumulate", args=[1], ignore_result=False).get(timeout=30)
        timings.append((time.perf_counter() - started) * 1000)
    app.conf.task_ignore_result = True
    return {
        "samples": samples,
        "p50_ms": percentile(timings, 0.5),
        "p99_ms": percentile(timings, 0.99),
    }


def offer(pipeline, user, rate: float, seconds: float) -> list:
    from pipelines import services

    started, ids, interval = time.perf_counter(), [], 1.0 / rate
    while (elapsed := time.perf_counter() - started) < seconds:
        ids.append(services.execution_start(pipeline=pipeline, trigger=None, user=user).id)
        delay = (len(ids) * interval) - (time.perf_counter() - started)
        if delay > 0:
            time.sleep(delay)
    del elapsed
    return ids


def drain(ids: list, limit: float) -> None:
    from pipelines.models import Execution

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not Execution.objects.filter(id__in=ids).exclude(status="SUCCEEDED").exists():
            return
        time.sleep(0.2)


def transitions(ids: list) -> list[float]:
    """Milliseconds from one stage's end to the next one's start."""
    from pipelines.models import Stage

    gaps, by_execution = [], {}
    for stage in Stage.objects.filter(execution_id__in=ids, parent=None).order_by("ref_id"):
        by_execution.setdefault(stage.execution_id, []).append(stage)
    for stages in by_execution.values():
        for before, after in zip(stages, stages[1:], strict=False):
            if before.end_time and after.start_time:
                gaps.append((after.start_time - before.end_time).total_seconds() * 1000)
    return gaps


def throughput(ids: list, offered: float, seconds: float) -> dict:
    from pipelines.models import Execution

    done = Execution.objects.filter(id__in=ids, status="SUCCEEDED")
    ends = sorted(e.end_time for e in done)
    starts = sorted(e.build_time for e in Execution.objects.filter(id__in=ids))
    span = (ends[-1] - starts[0]).total_seconds() if ends else 0
    durations = [(e.end_time - e.build_time).total_seconds() * 1000 for e in done]
    return {
        "offered_per_s": offered,
        "started": len(ids),
        "succeeded": len(ends),
        "completed_per_s": round(len(ends) / span, 1) if span else 0,
        "execution_p50_ms": percentile(durations, 0.5) if durations else None,
        "execution_p99_ms": percentile(durations, 0.99) if durations else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rates", default="5,10,20,30,40")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--sustain", type=float, default=60)
    parser.add_argument("--sustain-rate", type=float, default=10)
    options = parser.parse_args()

    import django

    django.setup()
    create_database()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection

    from pipelines import services
    from pipelines.models import Execution
    from spinui.models import Application

    call_command("migrate", verbosity=0)
    Execution.objects.all().delete()
    user, _ = User.objects.get_or_create(username="bench")
    app, _ = Application.objects.get_or_create(name="bench", defaults={"email": "b@example.com"})
    stages = [
        {
            "refId": str(i),
            "type": "wait",
            "name": f"wait {i}",
            "waitTime": 0,
            "requisiteStageRefIds": [str(i - 1)] if i > 1 else [],
        }
        for i in (1, 2, 3)
    ]
    pipeline = services.pipeline_save(
        actor=user,
        application=app,
        config={"id": "bench-three-waits", "name": "three waits", "stages": stages},
    )
    workers = start_workers(options.workers)
    try:
        time.sleep(4)
        result = {
            "database": connection.vendor,
            "broker": os.environ.get("CELERY_BROKER_URL", "filesystem://").split("://")[0],
            "workers": f"{options.workers} × celery --pool=solo",
            "celery_round_trip": celery_round_trip(),
        }
        ids = offer(pipeline, user, 1, 30)
        drain(ids, 30)
        gaps = transitions(ids)
        result["transition_at_1_per_s"] = {
            "transitions": len(gaps),
            "p50_ms": percentile(gaps, 0.5),
            "p99_ms": percentile(gaps, 0.99),
        }
        curve = []
        for rate in (float(r) for r in options.rates.split(",") if r):
            ids = offer(pipeline, user, rate, options.seconds)
            drain(ids, 120)
            curve.append(throughput(ids, rate, options.seconds))
        result["curve"] = curve
        ids = offer(pipeline, user, options.sustain_rate, options.sustain)
        drain(ids, 180)
        result["sustained"] = {
            "seconds": options.sustain,
            **throughput(ids, options.sustain_rate, options.sustain),
        }
        gaps = transitions(ids)
        result["sustained"]["transition_p50_ms"] = percentile(gaps, 0.5)
        result["sustained"]["transition_p99_ms"] = percentile(gaps, 0.99)
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
