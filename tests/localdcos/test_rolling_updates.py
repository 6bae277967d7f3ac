"""Rolling upgrades honour upgradeStrategy: minimumHealthCapacity and maximumOverCapacity."""

from __future__ import annotations

import pytest

from .conftest import wait_until

HEALTHY_HELLO = {
    "container": {"type": "DOCKER", "docker": {"image": "spinui/hello:v1"}},
    "cpus": 0.1,
    "instances": 4,
    "healthChecks": [{"protocol": "HTTP", "path": "/health", "intervalSeconds": 2}],
}


def watch_rollout(localdcos, app_id: str) -> list[tuple[int, int]]:
    """(healthy old-or-new running tasks, all live tasks) at each poll until the deployment ends."""
    seen = []

    def finished():
        app = localdcos.app(app_id)
        live = [t for t in app["tasks"] if t["state"] != "TASK_KILLING"]
        healthy = [
            t
            for t in live
            if t["state"] == "TASK_RUNNING"
            and t["healthCheckResults"]
            and all(r["alive"] for r in t["healthCheckResults"])
        ]
        seen.append((len(healthy), len(live)))
        return not app["deployments"]

    wait_until(finished, timeout=30, interval=0.01)
    return seen


@pytest.mark.parametrize(
    ("strategy", "least_healthy", "most_live"),
    [
        ({"minimumHealthCapacity": 1, "maximumOverCapacity": 1}, 4, 8),
        ({"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0}, 2, 4),
    ],
)
def test_a_rolling_update_keeps_capacity_within_the_upgrade_strategy(
    localdcos, strategy, least_healthy, most_live
):
    localdcos.create({"id": "roll", **HEALTHY_HELLO, "upgradeStrategy": strategy})
    localdcos.deployed("/roll")
    old = localdcos.running_task_ids("/roll")
    response = localdcos.request("PUT", "/v2/apps/roll", json={"env": {"GREETING": "v2"}})
    assert response.status_code == 200
    seen = watch_rollout(localdcos, "/roll")
    assert min(h for h, _ in seen) >= least_healthy, seen
    assert max(n for _, n in seen) <= most_live, seen
    if strategy["minimumHealthCapacity"] == 1:
        assert max(n for _, n in seen) > 4, "with spare capacity new tasks start beside old ones"
    else:
        assert min(h for h, _ in seen) < 4, "half the old tasks may stop first"
    new = wait_until(lambda: (ids := localdcos.running_task_ids("/roll")) and len(ids) == 4 and ids)
    assert not old & new
