"""Embedded broker: from sending a message to the worker taking it, as `make run` has it.

    python bench/broker_bench.py [--bursts 30] [--burst 2] [--interval 0.4]
                                 [--prefetch-multiplier N]

(repository root, venv python). Starts the Procfile's worker (prefork, concurrency 2) on the
filesystem broker under a temporary SPINUI_VAR_DIR, sends BURSTS bursts of BURST sweeps
(as beat's schedule and the engine's parallel branches send them) INTERVAL seconds apart, and
reads when the worker logged each one received. `--prefetch-multiplier` overrides
spinui's setting, to compare. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RECEIVED = re.compile(
    r"\[(\S+ \S+): INFO/MainProcess\] Task pipelines\.tasks\.sweep\[(\S+)\] received"
)


def setup() -> Path:
    var = Path(tempfile.mkdtemp(prefix="spinui-broker-bench-"))
    os.environ["SPINUI_VAR_DIR"] = str(var)
    for name in ("DATABASE_URL", "SPINUI_ENCRYPTION_KEYS", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spinui.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return var


def received_at(log: Path) -> dict[str, float]:
    found = {}
    for match in RECEIVED.finditer(log.read_text()):
        stamp = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC)
        found[match.group(2)] = stamp.timestamp()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bursts", type=int, default=30)
    parser.add_argument("--burst", type=int, default=2)
    parser.add_argument("--interval", type=float, default=0.4)
    parser.add_argument("--prefetch-multiplier", type=int)
    args = parser.parse_args()
    var = setup()
    from django.conf import settings

    from spinui.celery import app

    multiplier = args.prefetch_multiplier
    if multiplier is None:
        multiplier = settings.CELERY_WORKER_PREFETCH_MULTIPLIER
    log = var / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "spinui", "worker", "--loglevel=INFO"]
        + ["--concurrency=2", f"--prefetch-multiplier={multiplier}"],
        cwd=ROOT,
        env={**os.environ, "TZ": "UTC"},
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),  # noqa: SIM115 - closed with the process
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        sent = {}
        for _ in range(args.bursts):
            for _ in range(args.burst):
                sent[app.send_task("pipelines.tasks.sweep").id] = time.time()
            time.sleep(args.interval)
        time.sleep(5)  # the slowest message: up to two of the worker's 2 s waits
        taken = received_at(log)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    delays = sorted((taken[i] - t) * 1000 for i, t in sent.items() if i in taken)
    print(
        json.dumps(
            {
                "messages": len(sent),
                "burst": args.burst,
                "received": len(delays),
                "interval_s": args.interval,
                "prefetch_multiplier": multiplier,
                "send_to_received_ms": {
                    "median": round(statistics.median(delays), 1),
                    "p95": round(delays[int(0.95 * (len(delays) - 1))], 1),
                    "max": round(delays[-1], 1),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
