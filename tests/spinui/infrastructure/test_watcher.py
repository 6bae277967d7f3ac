"""The event watcher keeps the cache fresh with no beat refresh at all."""

import threading

import pytest

from spinui.models import Instance, ServerGroup
from spinui.watcher import RegionWatcher, app_ids_of

from .conftest import region_of, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def watch(settings):
    settings.SPINUI_INFRASTRUCTURE_REFRESH_SECONDS = 0
    started = []

    def start(region) -> RegionWatcher:
        stop = threading.Event()
        watcher = RegionWatcher(region.pk, stop, idle_seconds=2, backoff=(0.05, 0.2))
        thread = threading.Thread(target=watcher.run, daemon=True)
        thread.start()
        started.append((stop, thread))
        return watcher

    yield start
    for stop, _thread in started:
        stop.set()
    for _, thread in started:
        thread.join(timeout=10)
        assert not thread.is_alive()


def _task_ids(name: str) -> set[str]:
    return set(Instance.objects.filter(server_group__name=name).values_list("task_id", flat=True))


def test_a_task_change_reaches_the_cache_from_the_event_stream(localdcos, watch):
    localdcos.create({"id": "/dev/hello-v000", "instances": 1})
    [task] = localdcos.running("/dev/hello-v000", 1)["tasks"]
    watcher = watch(region_of(localdcos))
    wait_until(watcher.connected.is_set, timeout=10)
    wait_until(lambda: _task_ids("hello-v000") == {task["id"]}, timeout=10)

    localdcos.request("DELETE", f"/v2/apps/dev/hello-v000/tasks/{task['id']}")

    replaced = wait_until(
        lambda: (ids := _task_ids("hello-v000")) and task["id"] not in ids and ids, timeout=5
    )
    assert len(replaced) == 1


def test_a_new_app_and_a_scale_reach_the_cache(localdcos, watch):
    watcher = watch(region_of(localdcos))
    wait_until(watcher.connected.is_set, timeout=10)

    localdcos.create({"id": "/dev/hello-prod-v000", "instances": 2})

    wait_until(
        lambda: ServerGroup.objects.filter(name="hello-prod-v000", tasks_running=2).exists(),
        timeout=5,
    )
    localdcos.request("DELETE", "/v2/apps/dev/hello-prod-v000?force=true")
    wait_until(lambda: not ServerGroup.objects.exists(), timeout=5)


def test_the_watcher_reconnects_when_marathon_comes_back(localdcos, watch):
    watcher = watch(region_of(localdcos))
    wait_until(watcher.connected.is_set, timeout=10)

    localdcos.restart()
    localdcos.create({"id": "/dev/hello-v003", "instances": 0})

    wait_until(lambda: ServerGroup.objects.filter(name="hello-v003").exists(), timeout=10)


def test_events_name_the_apps_they_are_about():
    assert app_ids_of("status_update_event", {"appId": "/dev/a-v000"}) == {"/dev/a-v000"}
    assert app_ids_of("instance_changed_event", {"runSpecId": "/dev/b-v001"}) == {"/dev/b-v001"}
    deployment = {
        "plan": {"steps": [{"actions": [{"action": "ScaleApplication", "app": "/dev/c"}]}]}
    }
    assert app_ids_of("deployment_success", deployment) == {"/dev/c"}
    assert app_ids_of("group_change_success", {"groupId": "/dev"}) == {"*"}


def test_watchers_follow_regions_as_admins_add_and_delete_them(localdcos):
    from spinui.watcher import Watchers

    stop = threading.Event()
    watchers = Watchers(stop, idle_seconds=1)
    region = region_of(localdcos)
    try:
        watchers.sync()
        assert list(watchers.running) == [region.pk]
        localdcos.create({"id": "/dev/hello-v000", "instances": 0})
        wait_until(lambda: ServerGroup.objects.filter(name="hello-v000").exists(), timeout=10)

        region.delete()
        watchers.sync()
        assert watchers.running == {}
    finally:
        stop.set()
        for _, region_stop, _thread in watchers.running.values():
            region_stop.set()
        for thread in [t for _, _, t in watchers.running.values()] + watchers.retired:
            thread.join(timeout=5)
            assert not thread.is_alive()
