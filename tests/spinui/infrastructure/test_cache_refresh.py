"""Refreshing the cache from localdcos: rows per region, only what changed, secrets hidden."""

from spinui import infrastructure
from spinui.models import Instance, RegionStatus, ServerGroup

from .conftest import region_of


def test_a_refresh_stores_the_accounts_server_groups_and_instances(localdcos, db):
    localdcos.create({"id": "/dev/hello-prod-v001", "instances": 2})
    localdcos.create({"id": "/dev/web/hello-v000", "instances": 0})
    localdcos.create({"id": "/prod/hello-v000", "instances": 1})
    localdcos.create({"id": "/other-team-app", "instances": 0})
    localdcos.running("/dev/hello-prod-v001", 2)
    region = region_of(localdcos)

    stored = infrastructure.region_refresh(region=region)

    assert stored.created == 2
    rows = {sg.marathon_id: sg for sg in ServerGroup.objects.all()}
    assert set(rows) == {"/dev/hello-prod-v001", "/dev/web/hello-v000"}
    prod = rows["/dev/hello-prod-v001"]
    assert (prod.application, prod.cluster, prod.stack, prod.sequence) == (
        "hello",
        "hello-prod",
        "prod",
        1,
    )
    assert (prod.region_name, prod.account_name, prod.instances) == ("dev", "dev", 2)
    assert prod.health_counts == {"Up": 2}
    assert len(prod.instance_squares) == 2
    assert Instance.objects.filter(server_group=prod, state="TASK_RUNNING").count() == 2
    assert rows["/dev/web/hello-v000"].region_name == "dev_web"
    assert rows["/dev/web/hello-v000"].disabled
    status = RegionStatus.objects.get(region=region)
    assert status.reachable and status.last_seen_at


def test_an_unchanged_region_changes_no_row(localdcos, db):
    localdcos.create({"id": "/dev/hello-v000", "instances": 1})
    localdcos.running("/dev/hello-v000", 1)
    region = region_of(localdcos)
    infrastructure.region_refresh(region=region)
    stamp = infrastructure.application_stamp("hello")
    changed_at = ServerGroup.objects.get().changed_at

    stored = infrastructure.region_refresh(region=region)

    assert not stored.changed
    assert ServerGroup.objects.get().changed_at == changed_at
    assert infrastructure.application_stamp("hello") == stamp


def test_a_change_and_a_deletion_in_marathon_reach_the_cache(localdcos, db):
    localdcos.create({"id": "/dev/hello-v000", "instances": 1})
    localdcos.create({"id": "/dev/hello-v001", "instances": 1})
    localdcos.running("/dev/hello-v001", 1)
    region = region_of(localdcos)
    infrastructure.region_refresh(region=region)
    stamp = infrastructure.application_stamp("hello")

    localdcos.request("DELETE", "/v2/apps/dev/hello-v000?force=true")
    localdcos.request("PUT", "/v2/apps/dev/hello-v001?force=true", json={"instances": 3})
    localdcos.running("/dev/hello-v001", 3)
    stored = infrastructure.region_refresh(region=region)

    assert (stored.deleted, stored.updated) == (1, 1)
    row = ServerGroup.objects.get()
    assert (row.name, row.instances, row.instance_rows.count()) == ("hello-v001", 3, 3)
    assert infrastructure.application_stamp("hello") != stamp


def test_only_the_apps_an_event_names_are_read(localdcos, db):
    localdcos.create({"id": "/dev/hello-v000", "instances": 0})
    region = region_of(localdcos)
    infrastructure.region_refresh(region=region)
    localdcos.create({"id": "/dev/hello-v001", "instances": 0})
    localdcos.create({"id": "/dev/hello-v002", "instances": 0})

    infrastructure.server_groups_refresh(
        region=region, app_ids=["/dev/hello-v001", "/prod/hello-v000", "/dev/gone-v000"]
    )

    assert sorted(ServerGroup.objects.values_list("name", flat=True)) == [
        "hello-v000",
        "hello-v001",
    ]


def test_an_older_read_never_overwrites_a_newer_one(localdcos, db):
    from datetime import timedelta

    from django.utils import timezone

    from providers.dcos.marathon import MarathonClient

    localdcos.create({"id": "/dev/hello-v000", "instances": 0})
    region = region_of(localdcos)
    old_read = timezone.now() - timedelta(seconds=5)
    before = MarathonClient(localdcos.config()).server_groups("dev")
    localdcos.request(
        "PUT", "/v2/apps/dev/hello-v000?force=true", json={"instances": 0, "env": {"A": "1"}}
    )
    infrastructure.region_refresh(region=region)

    stored = infrastructure._store(region, old_read, before, app_ids=None)

    assert stored.skipped
    assert ServerGroup.objects.get().definition["env"] == {"A": "1"}


def test_secret_env_values_never_reach_the_cache(localdcos, db):
    localdcos.create(
        {
            "id": "/dev/hello-v000",
            "instances": 0,
            "env": {
                "DB_PASSWORD": "hunter2-value",
                "API_TOKEN": "tok-value",
                "GREETING": "hi",
            },
        }
    )
    infrastructure.region_refresh(region=region_of(localdcos))

    env = ServerGroup.objects.get().definition["env"]
    assert env == {
        "DB_PASSWORD": infrastructure.HIDDEN,
        "API_TOKEN": infrastructure.HIDDEN,
        "GREETING": "hi",
    }
