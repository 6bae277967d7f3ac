"""A Run Job description (Deck's and clouddriver's fields) as a Metronome job spec."""

import pytest

from providers.dcos.metronome import job_definition
from providers.dcos.operations import DescriptionError


def errors_of(description: dict) -> dict[str, str]:
    with pytest.raises(DescriptionError) as raised:
        job_definition(description)
    return dict(raised.value.errors)


def test_every_field_metronome_has_is_passed_through():
    job = job_definition(
        {
            "general": {
                "id": "hello.smoke-test",
                "description": "smoke",
                "cpus": 0.1,
                "mem": 64,
                "disk": 10,
                "cmd": "curl -fs http://x",
            },
            "docker": {"image": {"registry": "registry.local", "repository": "curl", "tag": "8"}},
            "env": {"URL": "http://x", "TOKEN": {"secret": "token"}},
            "secrets": {"token": {"source": "dev/token"}},
            "labels": {"team": "web"},
            "user": "nobody",
            "maxLaunchDelay": 60,
            "taskKillGracePeriodSeconds": 5,
            "restartPolicy": {"policy": "ON_FAILURE", "activeDeadlineSeconds": 120},
            "constraints": [{"attribute": "hostname", "operator": "LIKE", "value": "a.*"}],
            "artifacts": [{"uri": "http://x/a.tgz"}],
            "volumes": [{"containerPath": "/data", "hostPath": "/tmp", "mode": "ro"}],
        }
    )
    assert job == {
        "id": "hello.smoke-test",
        "description": "smoke",
        "labels": {"team": "web"},
        "run": {
            "cpus": 0.1,
            "mem": 64.0,
            "disk": 10.0,
            "cmd": "curl -fs http://x",
            "docker": {"image": "registry.local/curl:8"},
            "user": "nobody",
            "env": {"URL": "http://x", "TOKEN": {"secret": "token"}},
            "secrets": {"token": {"source": "dev/token"}},
            "maxLaunchDelay": 60,
            "taskKillGracePeriodSeconds": 5.0,
            "restart": {"policy": "ON_FAILURE", "activeDeadlineSeconds": 120},
            "placement": {
                "constraints": [{"attribute": "hostname", "operator": "LIKE", "value": "a.*"}]
            },
            "artifacts": [
                {"uri": "http://x/a.tgz", "extract": True, "executable": False, "cache": False}
            ],
            "volumes": [{"containerPath": "/data", "hostPath": "/tmp", "mode": "RO"}],
        },
    }


def test_an_image_alone_needs_no_command_and_metronome_keeps_its_defaults():
    job = job_definition({"general": {"id": "smoke"}, "docker": {"image": "spinui/hello:1.0"}})
    assert job["run"] == {"docker": {"image": "spinui/hello:1.0"}}


def test_restart_and_deadline_are_metronomes_restart_policy():
    job = job_definition({"general": {"id": "a", "cmd": "true"}, "restart": {"policy": "never"}})
    assert job["run"]["restart"] == {"policy": "NEVER"}
    job = job_definition({"general": {"id": "a", "cmd": "true"}, "deadline": 30})
    assert job["run"]["restart"] == {"policy": "NEVER", "activeDeadlineSeconds": 30}


def test_a_job_id_metronome_would_reject_is_refused_at_its_path():
    for bad in ("Hello", "hello/smoke", "hello..smoke", "-hello", "hello_smoke", ""):
        assert "/general/id" in errors_of({"general": {"id": bad, "cmd": "true"}}), bad


def test_every_problem_is_reported_with_its_path():
    errors = errors_of(
        {
            "general": {"id": "ok", "cpus": 0, "mem": "lots"},
            "restartPolicy": {"policy": "ALWAYS", "activeDeadlineSeconds": -1},
            "env": {"A": {"x": 1}},
            "constraints": [{"attribute": "host", "operator": "UNIQUE"}],
            "maxLaunchDelay": 1.5,
        }
    )
    assert set(errors) == {
        "/general/cpus",
        "/general/mem",
        "/general/cmd",
        "/restartPolicy/policy",
        "/restartPolicy/activeDeadlineSeconds",
        "/env/A",
        "/constraints/0/operator",
        "/maxLaunchDelay",
    }
    assert errors["/general/cmd"] == "give a command, or a docker image to run"


def test_a_missing_general_section_is_refused():
    assert list(errors_of({"cmd": "true"})) == ["/general"]
