"""Keeps the infrastructure cache fresh between beat refreshes from Marathon's event stream.

One thread per region follows `/v2/events` and hands the app ids each event names to a
second thread, which refreshes just those apps (a burst of events costs one read per app).
On every (re)connect the whole region is read once, to catch what happened while away.
Several watchers may run: every write keeps only the newest read (spinui.infrastructure).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable
from typing import Any

import requests
from django.conf import settings
from django.db import close_old_connections, connection

from providers.dcos.transport import DcosError
from spinui import infrastructure
from spinui.models import Region

log = logging.getLogger(__name__)

EVENT_TYPES = (
    "event_stream_attached",
    "status_update_event",
    "instance_changed_event",
    "health_status_changed_event",
    "instance_health_changed_event",
    "unhealthy_instance_kill_event",
    "deployment_info",
    "deployment_success",
    "deployment_failed",
    "deployment_step_success",
    "deployment_step_failure",
    "group_change_success",
    "app_terminated_event",
    "api_post_event",
)
WHOLE_REGION = "*"


def app_ids_of(event_type: str, payload: dict[str, Any]) -> set[str]:
    """The Marathon app ids an event is about; WHOLE_REGION when it can be anything."""
    ids = set()
    for key in ("appId", "runSpecId"):
        if isinstance(payload.get(key), str):
            ids.add(payload[key])
    definition = payload.get("appDefinition")
    if isinstance(definition, dict) and isinstance(definition.get("id"), str):
        ids.add(definition["id"])
    for holder in (payload.get("plan"), payload):
        if not isinstance(holder, dict):
            continue
        steps = list(holder.get("steps") or [])
        if isinstance(holder.get("currentStep"), dict):
            steps.append(holder["currentStep"])
        for step in steps:
            for action in (step or {}).get("actions") or []:
                if isinstance(action, dict) and isinstance(action.get("app"), str):
                    ids.add(action["app"])
    if event_type == "group_change_success":
        ids.add(WHOLE_REGION)
    return {("/" + i.lstrip("/")) if i != WHOLE_REGION else i for i in ids}


class RegionWatcher:
    """Follows one region's events until `stop` is set."""

    def __init__(
        self,
        region_id: int,
        stop: threading.Event,
        *,
        idle_seconds: float | None = None,
        backoff: tuple[float, float] = (0.5, 30.0),
    ) -> None:
        self.region_id = region_id
        self.stop = stop
        self.idle_seconds = idle_seconds or settings.SPINUI_WATCH_IDLE_SECONDS
        self.backoff = backoff
        self.pending: queue.Queue[set[str]] = queue.Queue()
        self.connected = threading.Event()
        self.refreshes = 0

    def _region(self) -> Region | None:
        close_old_connections()
        return Region.objects.select_related("account").filter(pk=self.region_id).first()

    def run(self) -> None:
        refresher = threading.Thread(target=self._refresh_loop, daemon=True)
        refresher.start()
        delay = self.backoff[0]
        try:
            while not self.stop.is_set():
                region = self._region()
                if region is None:
                    return
                started = time.monotonic()
                try:
                    self._follow(region)
                except (DcosError, requests.RequestException) as error:
                    message = getattr(error, "message", None) or str(error)
                    log.info("events of %s: %s; reconnecting in %.1fs", region, message, delay)
                finally:
                    self.connected.clear()
                if time.monotonic() - started > 10 * self.backoff[0]:
                    delay = self.backoff[0]
                if self.stop.wait(delay):
                    return
                delay = min(delay * 2, self.backoff[1])
        finally:
            self.pending.put(set())
            refresher.join(timeout=5)
            connection.close()

    def _follow(self, region: Region) -> None:
        marathon = infrastructure.marathon_for(region)
        for event_type, payload in marathon.events(EVENT_TYPES, read_timeout=self.idle_seconds):
            if self.stop.is_set():
                return
            if event_type == "event_stream_attached":
                self.connected.set()
                self.pending.put({WHOLE_REGION})
                continue
            ids = app_ids_of(event_type, payload)
            if ids:
                self.pending.put(ids)

    def _refresh_loop(self) -> None:
        try:
            while True:
                ids = self.pending.get()
                if not ids and self.stop.is_set():
                    return
                # Take everything that piled up meanwhile: one read per app, not per event.
                while True:
                    try:
                        ids |= self.pending.get_nowait()
                    except queue.Empty:
                        break
                if ids:
                    self._refresh(ids)
        finally:
            connection.close()

    def _refresh(self, ids: Iterable[str]) -> None:
        region = self._region()
        if region is None:
            return
        try:
            if WHOLE_REGION in ids:
                infrastructure.region_refresh(region=region)
            else:
                infrastructure.server_groups_refresh(region=region, app_ids=ids)
        except Exception:
            log.exception("refreshing the cache of %s failed", region)
        self.refreshes += 1


class Watchers:
    """A RegionWatcher per region, following regions as admins add, change or delete them."""

    def __init__(self, stop: threading.Event, *, idle_seconds: float | None = None) -> None:
        self.stop = stop
        self.idle_seconds = idle_seconds
        self.running: dict[int, tuple[Any, threading.Event, threading.Thread]] = {}
        # Stopped watchers finish their current read before they end.
        self.retired: list[threading.Thread] = []

    def sync(self) -> None:
        close_old_connections()
        regions = dict(Region.objects.values_list("id", "updated_at"))
        for region_id, (updated_at, stop, thread) in list(self.running.items()):
            if regions.get(region_id) != updated_at or not thread.is_alive():
                stop.set()
                self.retired.append(thread)
                del self.running[region_id]
        for region_id, updated_at in regions.items():
            if region_id not in self.running:
                stop = threading.Event()
                watcher = RegionWatcher(region_id, stop, idle_seconds=self.idle_seconds)
                thread = threading.Thread(
                    target=watcher.run, name=f"watch-region-{region_id}", daemon=True
                )
                thread.start()
                self.running[region_id] = (updated_at, stop, thread)

    def run(self, resync_seconds: float = 10.0) -> None:
        while not self.stop.is_set():
            self.sync()
            self.stop.wait(resync_seconds)
        for _, stop, _thread in self.running.values():
            stop.set()
        # A thread blocked on a quiet stream would hold shutdown for up to the idle timeout;
        # they are daemons, and a write cut short is a rolled-back transaction.
        deadline = time.monotonic() + 2
        for thread in [t for _, _, t in self.running.values()] + self.retired:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        connection.close()
