"""The agent's files endpoints serve sandboxes and nothing else."""

from __future__ import annotations

import pytest

from .conftest import wait_until

LINKS = "ln -s /etc/passwd passwd && ln -s /etc etc && ln -s .. up && echo secret-ish > ok.txt"


@pytest.fixture
def sandbox(localdcos):
    """(agent id, the Mesos directory of a finished job's sandbox, its real path)."""
    response = localdcos.request("POST", "/v1/jobs", json={"id": "links", "run": {"cmd": LINKS}})
    assert response.status_code == 201
    localdcos.request("POST", "/v1/jobs/links/runs")
    wait_until(
        lambda: localdcos.get("/v1/jobs/links?embed=history").json()["history"]["successCount"]
    )
    agent = localdcos.get("/mesos/state.json").json()["slaves"][0]["id"]
    state = localdcos.get(f"/agent/{agent}/slave(1)/state.json").json()
    (executor,) = state["completed_frameworks"][0]["completed_executors"]
    real = localdcos.work_dir / "dev" / "sandboxes" / executor["id"]
    return agent, executor["directory"], real


def fetch(localdcos, agent: str, endpoint: str, path: str):
    return localdcos.get(f"/agent/{agent}/files/{endpoint}", params={"path": path, "offset": 0})


def test_a_file_inside_the_sandbox_is_served_by_both_its_names(localdcos, sandbox):
    agent, directory, real = sandbox
    for name in (directory, str(real)):
        assert fetch(localdcos, agent, "download", f"{name}/ok.txt").text == "secret-ish\n"
        assert fetch(localdcos, agent, "read", f"{name}/ok.txt").json()["data"] == "secret-ish\n"


@pytest.mark.parametrize(
    "suffix",
    [
        "/../../../../../../../../../../etc/passwd",
        "/passwd",
        "/etc/hostname",
        "/up/../state.json",
        "/up/up/up/state.json",
        "/./up/ok.txt",
    ],
)
@pytest.mark.parametrize("endpoint", ["read", "download", "browse"])
def test_paths_that_leave_the_sandbox_are_refused(localdcos, sandbox, suffix, endpoint):
    agent, directory, real = sandbox
    # as the agent's files.cpp: 400 for read and download, 500 for browse
    status = 500 if endpoint == "browse" else 400
    for name in (directory, str(real)):
        response = fetch(localdcos, agent, endpoint, name + suffix)
        assert response.status_code == status, (name + suffix, response.text)
        assert response.text.endswith("is inaccessible.\n")
        assert "root:" not in response.text


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "/", "etc/passwd", "/var/lib/mesos/slave", "/proc/self/environ", "\x00"],
)
def test_paths_outside_every_sandbox_are_refused(localdcos, sandbox, path):
    agent, _, _ = sandbox
    for endpoint in ("read", "download", "browse"):
        response = fetch(localdcos, agent, endpoint, path)
        assert response.status_code == 404
        assert "root:" not in response.text


def test_the_work_dirs_own_files_are_not_served_through_a_sandbox(localdcos, sandbox):
    agent, _, real = sandbox
    state_file = real.parent.parent / "state.json"
    assert state_file.exists()
    assert fetch(localdcos, agent, "download", str(state_file)).status_code == 404
    assert fetch(localdcos, agent, "download", f"{real}/../../state.json").status_code == 400


def test_browsing_a_sandbox_leaves_out_links_that_point_outside_it(localdcos, sandbox):
    agent, directory, _ = sandbox
    listing = fetch(localdcos, agent, "browse", directory).json()
    names = sorted(entry["path"].rsplit("/", 1)[1] for entry in listing)
    assert names == ["ok.txt", "stderr", "stdout"]


def test_a_missing_path_is_400_and_an_unknown_agent_is_404(localdcos, sandbox):
    agent, _, _ = sandbox
    assert localdcos.get(f"/agent/{agent}/files/read").status_code == 400
    assert localdcos.get(f"/agent/{agent}/files/read?path=").status_code == 400
    unknown = localdcos.get("/agent/nobody-S9/files/read", params={"path": "/etc/passwd"})
    assert unknown.status_code == 404
