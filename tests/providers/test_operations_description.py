"""A create description (Deck's or clouddriver's spelling) becomes Marathon app JSON."""

import pytest

from providers.dcos.operations import DescriptionError, app_definition, description_from

FULL = {
    "desiredCapacity": 3,
    "cpus": 0.25,
    "mem": 256,
    "disk": 10,
    "gpus": 1,
    "docker": {
        "image": {"registry": "registry.example:5000", "repository": "team/web", "tag": "2.1"},
        "parameters": [{"key": "log-driver", "value": "journald"}],
        "privileged": False,
        "forcePullImage": True,
    },
    "args": ["--port", "8080"],
    "dcosUser": "nobody",
    "networkType": "BRIDGE",
    "serviceEndpoints": [
        {"port": 8080, "name": "http", "protocol": "tcp", "loadBalanced": True},
        {"port": 9090, "name": "admin", "exposeToHost": False, "servicePort": 10101},
    ],
    "env": {"MODE": "prod", "DB_PASSWORD": {"secret": "db"}},
    "secrets": {"db": {"source": "web/db"}},
    "labels": {"team": "web", "spinui.operation": "forged"},
    "healthChecks": [
        {"protocol": "MESOS_HTTP", "path": "/health", "portIndex": 0, "gracePeriodSeconds": 60},
        {"protocol": "COMMAND", "command": "true"},
    ],
    "readinessChecks": [
        {"name": "ready", "protocol": "HTTP", "path": "/ready", "portName": "http"}
    ],
    "constraints": "hostname:UNIQUE,rack:GROUP_BY:3",
    "fetch": [{"uri": "https://example.com/conf.tgz", "extract": True, "outputFile": "conf"}],
    "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.2},
    "backoffSeconds": 2,
    "backoffFactor": 1.5,
    "maxLaunchDelaySeconds": 600,
    "taskKillGracePeriodSeconds": 30,
    "acceptedResourceRoles": ["*"],
    "dependencies": ["/dev/db"],
    "persistentVolumes": [{"containerPath": "data", "persistent": {"size": 100}}],
    "dockerVolumes": [{"containerPath": "/etc/x", "hostPath": "/etc/x", "mode": "RO"}],
    "externalVolumes": [
        {"containerPath": "/ext", "external": {"name": "vol", "provider": "dvdi", "size": 5}}
    ],
}


def test_every_field_of_a_description_lands_in_the_app():
    app = app_definition(FULL, "/dev/web-prod-v001", {"spinui.operation": "op-1"})
    assert app["id"] == "/dev/web-prod-v001"
    assert (app["instances"], app["cpus"], app["mem"], app["disk"], app["gpus"]) == (
        3,
        0.25,
        256,
        10,
        1,
    )
    docker = app["container"]["docker"]
    assert docker["image"] == "registry.example:5000/team/web:2.1"
    assert docker["forcePullImage"] is True
    assert docker["parameters"] == [{"key": "log-driver", "value": "journald"}]
    assert app["args"] == ["--port", "8080"] and "cmd" not in app
    assert app["user"] == "nobody"
    assert app["networks"] == [{"mode": "container/bridge"}]
    assert app["container"]["portMappings"] == [
        {"containerPort": 8080, "protocol": "tcp", "name": "http", "hostPort": 0},
        {"containerPort": 9090, "protocol": "tcp", "name": "admin", "servicePort": 10101},
    ]
    assert "portDefinitions" not in app
    assert app["env"] == {"MODE": "prod", "DB_PASSWORD": {"secret": "db"}}
    assert app["secrets"] == {"db": {"source": "web/db"}}
    assert app["labels"] == {
        "team": "web",
        "VIP_0": "/dev/web-prod-v001:8080",
        "spinui.operation": "op-1",
    }
    assert app["healthChecks"][0] == {
        "protocol": "MESOS_HTTP",
        "path": "/health",
        "portIndex": 0,
        "gracePeriodSeconds": 60,
    }
    assert app["healthChecks"][1] == {"protocol": "COMMAND", "command": {"value": "true"}}
    assert app["readinessChecks"][0]["portName"] == "http"
    assert app["constraints"] == [["hostname", "UNIQUE"], ["rack", "GROUP_BY", "3"]]
    assert app["fetch"] == [
        {
            "uri": "https://example.com/conf.tgz",
            "executable": False,
            "extract": True,
            "cache": False,
            "destPath": "conf",
        }
    ]
    assert app["upgradeStrategy"] == {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.2}
    assert (app["backoffSeconds"], app["backoffFactor"]) == (2, 1.5)
    assert (app["maxLaunchDelaySeconds"], app["taskKillGracePeriodSeconds"]) == (600, 30)
    assert app["acceptedResourceRoles"] == ["*"] and app["dependencies"] == ["/dev/db"]
    assert [v["containerPath"] for v in app["container"]["volumes"]] == ["data", "/etc/x", "/ext"]
    assert app["container"]["volumes"][0]["persistent"] == {"size": 100}


def test_decks_defaults_and_host_network_with_ports():
    app = app_definition(
        {
            "docker": {"image": {"imageId": "spinui/hello:1.0"}},
            "serviceEndpoints": [{"port": 0, "name": "http"}],
        },
        "/dev/hello-v000",
    )
    assert (app["instances"], app["cpus"], app["mem"]) == (1, 0.5, 512)
    assert app["networks"] == [{"mode": "host"}]
    assert app["portDefinitions"] == [{"port": 0, "protocol": "tcp", "name": "http"}]


def test_deck_capacity_wins_over_clouddriver_desired_capacity():
    app = app_definition(
        {"cmd": "sleep 1", "capacity": {"min": 0, "max": 5, "desired": 4}, "desiredCapacity": 1},
        "/dev/x-v000",
    )
    assert app["instances"] == 4


def test_a_user_network_needs_its_name():
    app = app_definition(
        {"cmd": "x", "networkType": {"type": "USER", "name": "dcos"}}, "/dev/x-v000"
    )
    assert app["networks"] == [{"mode": "container", "name": "dcos"}]


def test_every_problem_is_reported_at_its_path():
    with pytest.raises(DescriptionError) as refused:
        app_definition(
            {
                "capacity": {"desired": -1},
                "cpus": "many",
                "cmd": "a",
                "args": ["b"],
                "networkType": "OVERLAY",
                "env": {"A": {"secret": "missing"}},
                "constraints": "hostname",
                "healthChecks": [{"protocol": "SMOKE"}],
                "readinessChecks": [{"path": "/"}],
                "upgradeStrategy": {"minimumHealthCapacity": 2},
            },
            "/dev/x-v000",
        )
    assert {path for path, _ in refused.value.errors} == {
        "/capacity/desired",
        "/cpus",
        "/args",
        "/networkType",
        "/env/A",
        "/constraints",
        "/healthChecks/0/protocol",
        "/readinessChecks/0/portName",
        "/upgradeStrategy/minimumHealthCapacity",
    }


def test_nothing_to_run_is_refused():
    with pytest.raises(DescriptionError) as refused:
        app_definition({}, "/dev/x-v000")
    assert refused.value.errors == [("/docker/image", "give an image, or a command to run")]


def test_a_clone_description_round_trips_without_spinuis_labels():
    app = app_definition(FULL, "/dev/web-prod-v001", {"spinui.operation": "op-1"})
    again = app_definition(description_from(app), "/dev/web-prod-v002")
    assert "spinui.operation" not in again["labels"]
    assert again["labels"]["VIP_0"] == "/dev/web-prod-v002:8080"
    for key in (
        "instances",
        "cpus",
        "mem",
        "env",
        "secrets",
        "healthChecks",
        "constraints",
        "fetch",
        "upgradeStrategy",
        "networks",
    ):
        assert again[key] == app[key], key
    assert again["container"]["docker"] == app["container"]["docker"]
