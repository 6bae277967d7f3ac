"""The infrastructure cache's tests: localdcos (from tests/providers) plus spinui rows."""

import pytest

from spinui.models import Account, Application, Region
from tests.providers.conftest import (  # noqa: F401 - fixtures shared with the provider tests
    localdcos,
    service_account_key,
    start_localdcos,
    tls_server,
    wait_until,
)


def region_of(server, *, account: str = "dev", cluster: str = "dev", **fields) -> Region:
    """A Region of ACCOUNT (created if needed) pointing at localdcos's CLUSTER."""
    owner, _ = Account.objects.get_or_create(name=account, defaults={"environment": account})
    fields.setdefault("url", server.url(cluster) if server else "")
    return Region.objects.create(account=owner, name=cluster, **fields)


@pytest.fixture
def hello(db) -> Application:
    return Application.objects.create(name="hello", email="team@example.com")


@pytest.fixture(autouse=True)
def quick_dcos_calls(settings) -> None:
    settings.SPINUI_DCOS_CONNECT_TIMEOUT = 1
    settings.SPINUI_DCOS_READ_TIMEOUT = 5
    settings.SPINUI_DCOS_RETRIES = 0


def marathon_app(app_id: str, *, instances: int = 1, healths=None, **fields) -> dict:
    """A Marathon app as GET /v2/apps?embed=apps.tasks returns it, with INSTANCES tasks;
    HEALTHS gives each task's health check results' alive (None: no check)."""
    healths = healths if healths is not None else [None] * instances
    slug = app_id.strip("/").replace("/", "_")
    tasks = [
        {
            "id": f"{slug}.instance-{index:08d}-0000-0000-0000-000000000000._app.1",
            "appId": app_id,
            "host": "127.0.0.1",
            "ports": [31000 + index],
            "state": "TASK_RUNNING",
            "startedAt": "2026-11-26T10:00:00.000Z",
            "stagedAt": "2026-11-26T09:59:59.000Z",
            "version": "2026-11-26T09:59:58.000Z",
            "healthCheckResults": [] if alive is None else [{"alive": alive}],
        }
        for index, alive in enumerate(healths)
    ]
    return {
        "id": app_id,
        "cmd": "sleep 3600",
        "instances": instances,
        "cpus": 0.1,
        "mem": 32,
        "container": {"type": "DOCKER", "docker": {"image": "spinui/hello:1.0"}},
        "healthChecks": [{"protocol": "HTTP", "path": "/health"}]
        if any(h is not None for h in healths)
        else [],
        "version": "2026-11-26T09:59:58.000Z",
        "versionInfo": {"lastConfigChangeAt": "2026-11-26T09:59:58.000Z"},
        "tasksRunning": instances,
        "deployments": [],
        "tasks": tasks,
        **fields,
    }


def cached(region: Region, apps: list[dict]) -> None:
    """Store Marathon apps in the cache the way a refresh would (for pages with many rows)."""
    from django.utils import timezone

    from providers.dcos.marathon import to_server_group
    from spinui.infrastructure import _store

    server_groups = [to_server_group(app, region.name) for app in apps]
    _store(region, timezone.now(), [sg for sg in server_groups if sg], app_ids=None)
