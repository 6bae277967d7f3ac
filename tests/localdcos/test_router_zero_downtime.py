"""No request fails through the router while an app is replaced or scaled down under load."""

from __future__ import annotations

import threading
import time
from collections import Counter

import requests

from .conftest import wait_until
from .test_router import READY, answers, hello, router_url

WORKERS = 4
PAUSE_SECONDS = 0.005  # per worker between requests: a steady few hundred requests a second
MAX_REQUESTS = 40_000  # a bound, whatever happens


class SteadyLoad:
    """A few keep-alive clients on loopback; every answer that is not 200 is a failure."""

    def __init__(self, url: str, host: str):
        self.url = url
        self.host = host
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.bodies: Counter[str] = Counter()
        self.failures: list[str] = []
        self.sent = 0
        self.threads = [threading.Thread(target=self._client) for _ in range(WORKERS)]

    def _client(self) -> None:
        with requests.Session() as session:
            while not self.stop.is_set():
                with self.lock:
                    if self.sent >= MAX_REQUESTS:
                        return
                    self.sent += 1
                try:
                    response = session.get(self.url, headers={"Host": self.host}, timeout=10)
                    outcome = response.text if response.status_code == 200 else None
                    failure = f"{response.status_code} {response.text!r}"
                except requests.RequestException as error:
                    outcome, failure = None, repr(error)
                with self.lock:
                    if outcome is None:
                        self.failures.append(failure)
                    else:
                        self.bodies[outcome] += 1
                time.sleep(PAUSE_SECONDS)

    def __enter__(self) -> SteadyLoad:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def deployment_gone(localdcos, app_id: str) -> None:
    wait_until(lambda: not localdcos.app(app_id)["deployments"], timeout=60, interval=0.1)


def test_a_rolling_update_of_three_ready_instances_drops_no_request(localdcos):
    localdcos.create(hello("/rolling", "v1", 3, **READY))
    localdcos.deployed("/rolling", timeout=30)
    answers(localdcos, "rolling.marathon.localhost")
    old = localdcos.running_task_ids("/rolling")
    with SteadyLoad(router_url(localdcos), "rolling.marathon.localhost") as load:
        time.sleep(0.5)
        response = localdcos.request("PUT", "/v2/apps/rolling", json={"env": {"GREETING": "v2"}})
        assert response.status_code == 200
        deployment_gone(localdcos, "/rolling")
        time.sleep(0.5)
    assert not old & localdcos.running_task_ids("/rolling"), "every task was replaced"
    assert load.failures == [], load.failures[:5]
    assert load.bodies["Hello v1 from spinui/hello:v1\n"] > 20
    assert load.bodies["Hello v2 from spinui/hello:v1\n"] > 20
    assert sum(load.bodies.values()) == load.sent


def test_scaling_down_from_three_to_one_drops_no_request(localdcos):
    localdcos.create(hello("/shrink", "steady", 3, **READY))
    localdcos.deployed("/shrink", timeout=30)
    answers(localdcos, "shrink.marathon.localhost")
    with SteadyLoad(router_url(localdcos), "shrink.marathon.localhost") as load:
        time.sleep(0.5)
        response = localdcos.request("PUT", "/v2/apps/shrink", json={"instances": 1})
        assert response.status_code == 200
        deployment_gone(localdcos, "/shrink")
        wait_until(lambda: len(localdcos.app("/shrink")["tasks"]) == 1, timeout=20)
        time.sleep(0.5)
    assert load.failures == [], load.failures[:5]
    assert load.bodies["Hello steady from spinui/hello:v1\n"] == load.sent > 100
