"""Clusters page and cache latency benchmark; prints one JSON object.

    python bench/clusters_bench.py [--runs 30] [--events 20]

- page: the clusters page of an application with 1000 server groups (3 instances each)
  across 5 regions, as an admin: server time (view and template, in process) and queries.
- expand: the same page with its clusters collapsed (more than the threshold), and the
  request that expands one cluster.
- poll: the htmx poll that answers 304 when nothing changed.
- event: localdcos kills a task; the time from the timestamp Marathon put on the
  status_update_event to the moment the cache shows the change, with the beat refresh off
  and the watcher (`manage.py watch_dcos`'s RegionWatcher) running in process.

Uses a fresh embedded SQLite database under a temporary SPINUI_VAR_DIR.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from marathon_events import marathon_events  # noqa: E402 - the bench folder is on sys.path


def setup() -> None:
    os.environ["SPINUI_VAR_DIR"] = tempfile.mkdtemp(prefix="spinui-bench-")
    for name in ("DATABASE_URL", "SPINUI_ENCRYPTION_KEYS", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    os.environ["SPINUI_INFRASTRUCTURE_REFRESH_SECONDS"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spinui.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(call, runs: int) -> dict:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 1),
        "max_ms": round(samples[-1], 1),
    }


def fill(clusters_per_region: int, server_groups_per_cluster: int) -> None:
    """5 regions of 2 accounts; every region gets the same clusters."""
    from django.utils import timezone

    from providers.dcos.marathon import to_server_group
    from spinui.infrastructure import _store
    from spinui.models import Account, Region, ServerGroup

    ServerGroup.objects.all().delete()
    Region.objects.all().delete()
    Account.objects.all().delete()
    layout = {"dev": ["east", "west"], "prod": ["east", "west", "north"]}
    for account_name, region_names in layout.items():
        account = Account.objects.create(name=account_name, environment=account_name)
        for region_name in region_names:
            region = Region.objects.create(
                account=account, name=region_name, url=f"http://{region_name}.invalid"
            )
            apps = [
                _app(f"/{account_name}/hello-s{c}-v{v:03d}")
                for c in range(clusters_per_region)
                for v in range(server_groups_per_cluster)
            ]
            server_groups = [to_server_group(app, region.name) for app in apps]
            _store(region, timezone.now(), server_groups, app_ids=None)


def _app(app_id: str) -> dict:
    slug = app_id.strip("/").replace("/", "_")
    return {
        "id": app_id,
        "cmd": "sleep 3600",
        "instances": 3,
        "container": {"type": "DOCKER", "docker": {"image": "registry.example/hello:1.4.2"}},
        "versionInfo": {"lastConfigChangeAt": "2026-11-26T09:59:58.000Z"},
        "tasksRunning": 3,
        "deployments": [],
        "tasks": [
            {
                "id": f"{slug}.instance-{n:08d}-0000-0000-0000-000000000000._app.1",
                "host": "10.0.0.1",
                "ports": [31000 + n],
                "state": "TASK_RUNNING",
                "startedAt": "2026-11-26T10:00:00.000Z",
                "healthCheckResults": [],
            }
            for n in range(3)
        ],
    }


def page_bench(runs: int) -> dict:
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from spinui.models import Application, ServerGroup

    admin = User.objects.create_superuser("bench", "bench@example.com", "bench-pass-1")
    Application.objects.create(name="hello", email="team@example.com")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin)
    url = "/applications/hello/clusters/"
    results: dict = {}

    # 100 clusters × 2 server groups × 5 regions = 1000 server groups, all expanded.
    fill(clusters_per_region=100, server_groups_per_cluster=2)
    assert ServerGroup.objects.count() == 1000
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    results["page"] = {
        "server_groups": 1000,
        "clusters": response.content.count(b'<details class="cluster"'),
        "collapsed": b"each starts collapsed" in response.content,
        "queries": len(queries),
        "html_kb": round(len(response.content) / 1024),
        **timed(lambda: client.get(url), runs),
    }
    etag = response["ETag"]
    poll = {"HX-Request": "true", "If-None-Match": etag}
    assert client.get(url, headers=poll).status_code == 304
    results["poll_304"] = timed(lambda: client.get(url, headers=poll), runs)

    # 500 clusters × 2 server groups (over Deck's 250): every cluster starts collapsed.
    fill_collapsed()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert b"each starts collapsed" in response.content, "expected collapsed clusters"
    results["page_collapsed"] = {
        "server_groups": ServerGroup.objects.count(),
        "clusters": response.content.count(b'<details class="cluster"'),
        "threshold": settings.SPINUI_CLUSTERS_COLLAPSE_ABOVE,
        "queries": len(queries),
        **timed(lambda: client.get(url), runs),
    }
    expand = url + "?cluster=prod:hello-shared"
    assert b"hello-shared-v001" in client.get(expand, headers={"HX-Request": "true"}).content
    results["expand_one_cluster"] = timed(
        lambda: client.get(expand, headers={"HX-Request": "true"}), runs
    )
    return results


def fill_collapsed() -> None:
    # 5 regions × 100 clusters of 2 server groups; one cluster is in every region, the
    # others in one each: 496 clusters, 1000 server groups.
    from django.utils import timezone

    from providers.dcos.marathon import to_server_group
    from spinui.infrastructure import _store
    from spinui.models import Region, ServerGroup

    ServerGroup.objects.all().delete()
    for index, region in enumerate(Region.objects.select_related("account").order_by("pk")):
        account = region.account.name
        apps = [
            _app(f"/{account}/hello-{f's{index * 100 + c}' if c else 'shared'}-v{v:03d}")
            for c in range(100)
            for v in range(2)
        ]
        _store(
            region, timezone.now(), [to_server_group(a, region.name) for a in apps], app_ids=None
        )


def event_bench(events: int) -> dict:
    """Task kill → cache, through the watcher, against a real localdcos."""
    import requests

    from spinui.models import Account, Instance, Region
    from spinui.watcher import RegionWatcher
    from tests.providers.conftest import LocalDcos, wait_until

    work = Path(tempfile.mkdtemp(prefix="spinui-bench-localdcos-"))
    server = LocalDcos(work / "localdcos", []).start()
    stop = threading.Event()
    try:
        account = Account.objects.get_or_create(name="bench", defaults={"environment": "dev"})[0]
        region = Region.objects.create(account=account, name="dev", url=server.url())
        app_id = "/bench/hello-v000"
        server.create({"id": app_id, "instances": 1})
        server.running(app_id, 1)
        watcher = RegionWatcher(region.pk, stop, idle_seconds=2)
        thread = threading.Thread(target=watcher.run, daemon=True)
        thread.start()
        wait_until(watcher.connected.is_set, timeout=10)

        emitted: dict[str, float] = {}
        listener = threading.Thread(target=_listen, args=(server.url(), emitted, stop), daemon=True)
        listener.start()
        time.sleep(0.3)
        latencies = []
        for _ in range(events):
            [task] = server.running(app_id, 1)["tasks"]
            wait_until(lambda t=task: Instance.objects.filter(task_id=t["id"]).exists(), timeout=10)
            requests.delete(f"{server.url()}/v2/apps{app_id}/tasks/{task['id']}", timeout=5)
            wait_until(
                lambda t=task: not Instance.objects.filter(task_id=t["id"]).exists(),
                timeout=10,
                interval=0.002,
            )
            seen = time.time()
            at = wait_until(lambda t=task: emitted.get(t["id"]), timeout=5)
            latencies.append((seen - at) * 1000)
        stop.set()
        thread.join(timeout=5)
    finally:
        stop.set()
        server.stop()
    latencies.sort()
    return {
        "task_change_to_cache": {
            "events": len(latencies),
            "median_ms": round(statistics.median(latencies), 1),
            "max_ms": round(latencies[-1], 1),
        }
    }


def _listen(url: str, emitted: dict[str, float], stop: threading.Event) -> None:
    """Marathon's own timestamp on the first status update of each killed task."""
    for event, stamp in marathon_events(url, "status_update_event", stop):
        if event.get("taskStatus") in ("TASK_KILLING", "TASK_KILLED"):
            emitted.setdefault(event["taskId"], stamp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()
    setup()
    results = page_bench(args.runs)
    results |= event_bench(args.events)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
