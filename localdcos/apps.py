"""App definitions: Marathon's JSON type checks (400), defaults, and validation rules (422)."""

from __future__ import annotations

import copy
import math
import re
from datetime import UTC, datetime

ID_SEGMENT = re.compile(
    r"^(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])|(\.|\.\.)$"
)
ID_PATTERN_TEXT = (
    "^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])"
    "|(\\.|\\.\\.)$"
)
RESERVED_LAST_SEGMENTS = {"restart", "tasks", "versions", ".", ".."}
NEEDS_COMMAND = "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."
PORT_INDEX_RANGE = (
    "Health check port indices must address an element of the ports array "
    "or container port mappings."
)
MIXED_CHECKS = (
    "AppDefinition can contain either Marathon-level or Mesos-level health checks, not both"
)
READINESS_PORT = (
    "Readiness checks need a port name that is defined in the portDefinitions or portMappings"
)
RESERVED_TEXT = ", ".join(sorted(RESERVED_LAST_SEGMENTS))
PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
HEALTH_PROTOCOLS = {"HTTP", "HTTPS", "TCP", "COMMAND", "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP"}
MESOS_LEVEL_PROTOCOLS = {"COMMAND", "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP"}
KILL_SELECTIONS = {"YOUNGEST_FIRST", "OLDEST_FIRST"}
CONSTRAINT_OPERATORS = {"UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS"}

STRING, NUMBER, INTEGER, BOOLEAN, ARRAY, OBJECT = "s", "n", "i", "b", "a", "o"
EXPECTED = {
    STRING: "error.expected.jsstring",
    NUMBER: "error.expected.jsnumber",
    INTEGER: "error.expected.jsnumber",
    BOOLEAN: "error.expected.jsboolean",
    ARRAY: "error.expected.jsarray",
    OBJECT: "error.expected.jsobject",
}
APP_FIELDS = {
    "id": STRING,
    "cmd": STRING,
    "args": ARRAY,
    "user": STRING,
    "env": OBJECT,
    "instances": INTEGER,
    "cpus": NUMBER,
    "mem": NUMBER,
    "disk": NUMBER,
    "gpus": INTEGER,
    "executor": STRING,
    "constraints": ARRAY,
    "fetch": ARRAY,
    "uris": ARRAY,
    "storeUrls": ARRAY,
    "backoffSeconds": NUMBER,
    "backoffFactor": NUMBER,
    "maxLaunchDelaySeconds": NUMBER,
    "container": OBJECT,
    "healthChecks": ARRAY,
    "readinessChecks": ARRAY,
    "dependencies": ARRAY,
    "upgradeStrategy": OBJECT,
    "labels": OBJECT,
    "acceptedResourceRoles": ARRAY,
    "version": STRING,
    "killSelection": STRING,
    "taskKillGracePeriodSeconds": NUMBER,
    "secrets": OBJECT,
    "networks": ARRAY,
    "portDefinitions": ARRAY,
    "ports": ARRAY,
    "requirePorts": BOOLEAN,
    "role": STRING,
}
# Fields that are status, not definition: accepted in a body and ignored, as Marathon does.
STATUS_FIELDS = {
    "tasks",
    "tasksStaged",
    "tasksRunning",
    "tasksHealthy",
    "tasksUnhealthy",
    "deployments",
    "lastTaskFailure",
    "versionInfo",
    "readinessCheckResults",
    "taskStats",
}


class InvalidJson(Exception):
    def __init__(self, details: list[dict]):
        self.details = details


class Invalid(Exception):
    def __init__(self, details: list[dict]):
        self.details = details


def timestamp(moment: float | None = None) -> str:
    """ISO 8601 UTC with milliseconds, as Marathon writes them."""
    when = datetime.fromtimestamp(moment, UTC) if moment is not None else datetime.now(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def canonical_id(raw: str, base: str = "/") -> str:
    path = raw if raw.startswith("/") else base.rstrip("/") + "/" + raw
    parts: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if parts:
                parts.pop()
            continue
        parts.append(segment)
    return "/" + "/".join(parts)


def id_errors(raw: str) -> list[str]:
    segments = [s for s in raw.strip("/").split("/")]
    if raw.strip("/") == "":
        return ["Path must contain at least one path element"]
    for segment in segments:
        if not ID_SEGMENT.fullmatch(segment):
            return [f"must fully match regular expression '{ID_PATTERN_TEXT}'"]
    if segments[-1] in RESERVED_LAST_SEGMENTS:
        return [f"must not end with any of the following reserved keywords: {RESERVED_TEXT}"]
    return []


def _is_type(value, kind: str) -> bool:
    if kind == STRING:
        return isinstance(value, str)
    if kind in (NUMBER, INTEGER):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == BOOLEAN:
        return isinstance(value, bool)
    if kind == ARRAY:
        return isinstance(value, list)
    return isinstance(value, dict)


def _is_int32(value) -> bool:
    if isinstance(value, float) and not value.is_integer():
        return False
    return -(2**31) <= value < 2**31


def check_json_types(body: dict) -> None:
    """Play-JSON style read errors: a field of the wrong JSON type is 400 Invalid JSON."""
    details = []
    for name, kind in APP_FIELDS.items():
        value = body.get(name)
        if value is not None and not _is_type(value, kind):
            details.append({"path": f"/{name}", "errors": [EXPECTED[kind]]})
        elif kind == INTEGER and value is not None and not _is_int32(value):
            details.append({"path": f"/{name}", "errors": ["error.expected.int"]})
        elif kind == INTEGER and isinstance(value, float):
            body[name] = int(value)
    for name in ("env", "labels"):
        for key, value in (
            (body.get(name) or {}).items() if isinstance(body.get(name), dict) else []
        ):
            if name == "labels" and not isinstance(value, str):
                details.append({"path": f"/labels/{key}", "errors": ["error.expected.jsstring"]})
            if name == "env" and not (isinstance(value, (str, dict))):
                details.append({"path": f"/env/{key}", "errors": ["error.expected.jsstring"]})
    if isinstance(body.get("args"), list):
        for index, arg in enumerate(body["args"]):
            if not isinstance(arg, str):
                details.append({"path": f"/args({index})", "errors": ["error.expected.jsstring"]})
    for list_name in ("healthChecks", "readinessChecks", "portDefinitions", "fetch", "networks"):
        for index, entry in (
            enumerate(body.get(list_name) or []) if isinstance(body.get(list_name), list) else []
        ):
            if not isinstance(entry, dict):
                details.append(
                    {"path": f"/{list_name}({index})", "errors": ["error.expected.jsobject"]}
                )
    strategy = body.get("unreachableStrategy")
    if strategy is not None and not (isinstance(strategy, dict) or strategy == "disabled"):
        details.append({"path": "/unreachableStrategy", "errors": ["error.expected.jsobject"]})
    if details:
        raise InvalidJson(details)


def _health_check(raw: dict) -> dict:
    protocol = str(raw.get("protocol", "HTTP")).upper()
    check = {
        "gracePeriodSeconds": raw.get("gracePeriodSeconds", 300),
        "intervalSeconds": raw.get("intervalSeconds", 60),
        "maxConsecutiveFailures": raw.get("maxConsecutiveFailures", 3),
        "timeoutSeconds": raw.get("timeoutSeconds", 20),
        "delaySeconds": raw.get("delaySeconds", 15),
        "protocol": protocol,
    }
    if protocol == "COMMAND":
        command = raw.get("command")
        check["command"] = {"value": command} if isinstance(command, str) else command
    else:
        if "port" in raw:
            check["port"] = raw["port"]
        else:
            check["portIndex"] = raw.get("portIndex", 0)
        if protocol in ("HTTP", "HTTPS", "MESOS_HTTP", "MESOS_HTTPS"):
            check["path"] = raw.get("path", "/")
        if protocol in ("HTTP", "HTTPS"):
            check["ignoreHttp1xx"] = raw.get("ignoreHttp1xx", False)
    return check


def _readiness_check(raw: dict) -> dict:
    return {
        "name": raw.get("name", "readinessCheck"),
        "protocol": raw.get("protocol", "HTTP"),
        "path": raw.get("path", "/"),
        "portName": raw.get("portName", "http-api"),
        "intervalSeconds": raw.get("intervalSeconds", 30),
        "timeoutSeconds": raw.get("timeoutSeconds", 10),
        "httpStatusCodesForReady": raw.get("httpStatusCodesForReady", [200]),
        "preserveLastResponse": raw.get("preserveLastResponse", False),
    }


def _container(raw: dict) -> tuple[dict, list[dict] | None]:
    """The container in Marathon's output form, and the networks implied by docker.network."""
    container = {"type": raw.get("type", "DOCKER")}
    docker = raw.get("docker")
    implied_networks = None
    port_mappings = raw.get("portMappings")
    if isinstance(docker, dict):
        legacy_network = docker.get("network")
        if legacy_network == "BRIDGE":
            implied_networks = [{"mode": "container/bridge"}]
        elif legacy_network == "USER":
            implied_networks = [{"mode": "container", "name": "dcos"}]
        elif legacy_network == "HOST":
            implied_networks = [{"mode": "host"}]
        if port_mappings is None and docker.get("portMappings") is not None:
            port_mappings = docker["portMappings"]
        container["docker"] = {
            "image": docker.get("image", ""),
            "forcePullImage": docker.get("forcePullImage", False),
            "parameters": docker.get("parameters", []),
            "privileged": docker.get("privileged", False),
        }
        if "pullConfig" in docker:
            container["docker"]["pullConfig"] = docker["pullConfig"]
    container["volumes"] = raw.get("volumes", [])
    if port_mappings is not None:
        mappings = []
        for mapping in port_mappings:
            entry = {
                "containerPort": mapping.get("containerPort", 0),
                "hostPort": mapping.get("hostPort", 0),
                "labels": mapping.get("labels", {}),
                "protocol": mapping.get("protocol", "tcp"),
                "servicePort": mapping.get("servicePort", 0),
            }
            if "name" in mapping:
                entry["name"] = mapping["name"]
            mappings.append(entry)
        container["portMappings"] = mappings
    return container, implied_networks


def normalize(body: dict, app_id: str) -> dict:
    """The stored definition: Marathon's defaults filled in; raises InvalidJson or Invalid."""
    check_json_types(body)
    spec: dict = {"id": app_id}
    for name in ("acceptedResourceRoles",):
        if name in body:
            spec[name] = body[name]
    spec["backoffFactor"] = body.get("backoffFactor", 1.15)
    spec["backoffSeconds"] = body.get("backoffSeconds", 1)
    if body.get("cmd") is not None:
        spec["cmd"] = body["cmd"]
    if body.get("args") is not None:
        spec["args"] = body["args"]
    networks = body.get("networks")
    if body.get("container") is not None:
        container, implied = _container(body["container"])
        spec["container"] = container
        if networks is None:
            networks = implied
    spec["cpus"] = body.get("cpus", 1)
    spec["disk"] = body.get("disk", 0)
    spec["env"] = body.get("env") or {}
    spec["executor"] = body.get("executor", "")
    fetch = list(body.get("fetch") or [])
    fetch += [{"uri": uri} for uri in body.get("uris") or []]
    spec["fetch"] = [
        {
            "uri": entry.get("uri"),
            "extract": entry.get("extract", True),
            "executable": entry.get("executable", False),
            "cache": entry.get("cache", False),
            **({"destPath": entry["destPath"]} if "destPath" in entry else {}),
        }
        for entry in fetch
        if isinstance(entry, dict)
    ]
    spec["healthChecks"] = [_health_check(c) for c in body.get("healthChecks") or []]
    spec["instances"] = body.get("instances", 1)
    spec["labels"] = body.get("labels") or {}
    spec["maxLaunchDelaySeconds"] = body.get("maxLaunchDelaySeconds", 300)
    spec["mem"] = body.get("mem", 128)
    spec["gpus"] = body.get("gpus", 0)
    spec["networks"] = networks if networks else [{"mode": "host"}]
    host_networking = spec["networks"][0].get("mode", "host") == "host"
    if body.get("portDefinitions") is not None:
        definitions = body["portDefinitions"]
    elif body.get("ports") is not None:
        definitions = [{"port": port} for port in body["ports"]]
    elif host_networking and not spec.get("container", {}).get("portMappings"):
        definitions = [{"port": 0, "name": "default"}]
    else:
        definitions = []
    spec["portDefinitions"] = [
        {
            "port": d.get("port", 0),
            "protocol": d.get("protocol", "tcp"),
            **({"name": d["name"]} if "name" in d else {}),
            **({"labels": d["labels"]} if "labels" in d else {}),
        }
        for d in definitions
    ]
    if not host_networking:
        spec["portDefinitions"] = []
    spec["readinessChecks"] = [_readiness_check(c) for c in body.get("readinessChecks") or []]
    spec["requirePorts"] = body.get("requirePorts", False)
    spec["secrets"] = body.get("secrets") or {}
    strategy = body.get("upgradeStrategy") or {}
    spec["upgradeStrategy"] = {
        "maximumOverCapacity": strategy.get("maximumOverCapacity", 1),
        "minimumHealthCapacity": strategy.get("minimumHealthCapacity", 1),
    }
    if body.get("user") is not None:
        spec["user"] = body["user"]
    spec["killSelection"] = body.get("killSelection", "YOUNGEST_FIRST")
    unreachable = body.get("unreachableStrategy")
    if unreachable is None:
        unreachable = {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}
    spec["unreachableStrategy"] = unreachable
    spec["role"] = body.get("role", "*")
    if body.get("taskKillGracePeriodSeconds") is not None:
        spec["taskKillGracePeriodSeconds"] = body["taskKillGracePeriodSeconds"]
    spec["constraints"] = body.get("constraints") or []
    spec["dependencies"] = [canonical_id(d) for d in body.get("dependencies") or []]
    validate(spec)
    return spec


def _minimum(details: list, path: str, value, minimum, integer: bool = False) -> None:
    if value < minimum:
        shown = (lambda v: str(int(v))) if integer else (lambda v: str(float(v)))
        details.append(
            {"path": path, "errors": [f"got {shown(value)}, expected {shown(minimum)} or more"]}
        )


def validate(spec: dict) -> None:
    details: list[dict] = []
    if not spec.get("cmd") and not spec.get("args") and not spec.get("container"):
        details.append(
            {
                "path": "/",
                "errors": [NEEDS_COMMAND],
            }
        )
    if spec.get("cmd") and spec.get("args"):
        details.append(
            {
                "path": "/",
                "errors": [NEEDS_COMMAND],
            }
        )
    _minimum(details, "/cpus", spec["cpus"], 0.001)
    _minimum(details, "/mem", spec["mem"], 0.0)
    _minimum(details, "/disk", spec["disk"], 0.0)
    _minimum(details, "/gpus", spec["gpus"], 0, integer=True)
    _minimum(details, "/instances", spec["instances"], 0, integer=True)
    _minimum(details, "/backoffSeconds", spec["backoffSeconds"], 0, integer=True)
    _minimum(details, "/backoffFactor", spec["backoffFactor"], 1.0)
    _minimum(details, "/maxLaunchDelaySeconds", spec["maxLaunchDelaySeconds"], 0, integer=True)
    if "taskKillGracePeriodSeconds" in spec:
        _minimum(
            details, "/taskKillGracePeriodSeconds", spec["taskKillGracePeriodSeconds"], 0, True
        )
    for name in ("minimumHealthCapacity", "maximumOverCapacity"):
        value = spec["upgradeStrategy"][name]
        path = f"/upgradeStrategy/{name}"
        if not _is_type(value, NUMBER):
            details.append({"path": path, "errors": ["error.expected.jsnumber"]})
        elif value < 0:
            details.append({"path": path, "errors": ["is less than 0"]})
        elif value > 1:
            details.append({"path": path, "errors": ["is greater than 1"]})
    if spec["killSelection"] not in KILL_SELECTIONS:
        details.append({"path": "/killSelection", "errors": ["error.unknown.enum.literal"]})
    container = spec.get("container")
    if container:
        if container["type"] not in ("DOCKER", "MESOS"):
            details.append({"path": "/container/type", "errors": ["error.unknown.enum.literal"]})
        if container["type"] == "DOCKER" and not container.get("docker", {}).get("image"):
            details.append({"path": "/container/docker/image", "errors": ["must not be empty"]})
        for index, mapping in enumerate(container.get("portMappings") or []):
            name = mapping.get("name")
            if name is not None and not PORT_NAME.fullmatch(str(name)):
                details.append(
                    {
                        "path": f"/container/portMappings({index})/name",
                        "errors": [f"must fully match regular expression '{PORT_NAME.pattern}'"],
                    }
                )
            for field in ("containerPort", "hostPort", "servicePort"):
                port = mapping.get(field)
                if not isinstance(port, int) or not 0 <= port <= 65535:
                    details.append(
                        {
                            "path": f"/container/portMappings({index})/{field}",
                            "errors": ["got out of range port, expected 0 to 65535"],
                        }
                    )
    for index, definition in enumerate(spec["portDefinitions"]):
        port = definition["port"]
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            details.append(
                {
                    "path": f"/portDefinitions({index})/port",
                    "errors": ["got out of range port, expected 0 to 65535"],
                }
            )
        name = definition.get("name")
        if name is not None and not PORT_NAME.fullmatch(str(name)):
            details.append(
                {
                    "path": f"/portDefinitions({index})/name",
                    "errors": [f"must fully match regular expression '{PORT_NAME.pattern}'"],
                }
            )
    names = [d.get("name") for d in port_entries(spec) if d.get("name")]
    if len(names) != len(set(names)):
        details.append({"path": "/portDefinitions", "errors": ["Port names must be unique."]})
    protocols = set()
    for index, check in enumerate(spec["healthChecks"]):
        path = f"/healthChecks({index})"
        if check["protocol"] not in HEALTH_PROTOCOLS:
            details.append({"path": f"{path}/protocol", "errors": ["error.unknown.enum.literal"]})
            continue
        protocols.add(check["protocol"] in MESOS_LEVEL_PROTOCOLS)
        for field in (
            "gracePeriodSeconds",
            "intervalSeconds",
            "timeoutSeconds",
            "maxConsecutiveFailures",
            "delaySeconds",
        ):
            value = check.get(field)
            if not _is_type(value, NUMBER):
                details.append({"path": f"{path}/{field}", "errors": ["error.expected.jsnumber"]})
            elif value < 0:
                details.append(
                    {"path": f"{path}/{field}", "errors": [f"got {value}, expected 0 or more"]}
                )
        if check["protocol"] == "COMMAND":
            command = check.get("command")
            if not isinstance(command, dict) or not isinstance(command.get("value"), str):
                details.append({"path": f"{path}/command", "errors": ["is not defined"]})
        elif "portIndex" in check:
            count = len(port_entries(spec))
            if (
                not isinstance(check["portIndex"], int)
                or not 0 <= check["portIndex"] < max(count, 1)
                or count == 0
            ):
                details.append(
                    {
                        "path": path,
                        "errors": [PORT_INDEX_RANGE],
                    }
                )
    if len(protocols) > 1:
        details.append(
            {
                "path": "/healthChecks",
                "errors": [MIXED_CHECKS],
            }
        )
    port_names = {d.get("name") for d in port_entries(spec)}
    for index, check in enumerate(spec["readinessChecks"]):
        if check["protocol"] not in ("HTTP", "HTTPS"):
            details.append(
                {
                    "path": f"/readinessChecks({index})/protocol",
                    "errors": ["error.unknown.enum.literal"],
                }
            )
        if check["portName"] not in port_names:
            details.append(
                {
                    "path": f"/readinessChecks({index})",
                    "errors": [READINESS_PORT],
                }
            )
    for key, value in spec["env"].items():
        if isinstance(value, dict):
            details.append(
                {
                    "path": f"/env/{key}",
                    "errors": [
                        "Feature secrets is not enabled. Enable with --enable_features secrets)"
                    ],
                }
            )
    if spec["secrets"]:
        details.append(
            {
                "path": "/secrets",
                "errors": [
                    "Feature secrets is not enabled. Enable with --enable_features secrets)"
                ],
            }
        )
    for index, constraint in enumerate(spec["constraints"]):
        if (
            not isinstance(constraint, list)
            or len(constraint) not in (2, 3)
            or not all(isinstance(part, str) for part in constraint)
            or constraint[1] not in CONSTRAINT_OPERATORS
        ):
            details.append(
                {"path": f"/constraints({index})", "errors": ["Invalid constraint format"]}
            )
    if details:
        raise Invalid(details)


def port_entries(spec: dict) -> list[dict]:
    """The app's ports in order: portMappings on container networks, else portDefinitions."""
    mappings = (spec.get("container") or {}).get("portMappings")
    if mappings and spec["networks"][0].get("mode") != "host":
        return mappings
    return spec["portDefinitions"]


def is_scale_only(old: dict, new: dict) -> bool:
    """Marathon's isUpgrade, negated: everything but instances equal."""
    return {**old, "instances": 0} == {**new, "instances": 0}


def merge_update(current: dict, body: dict) -> dict:
    """partialUpdate: the body's top-level fields replace the current definition's."""
    merged = copy.deepcopy(current)
    merged.update(copy.deepcopy(body))
    if "container" in body and body.get("container") is None:
        merged.pop("container", None)
    return merged


def minimum_healthy(spec: dict) -> int:
    return math.ceil(spec["instances"] * spec["upgradeStrategy"]["minimumHealthCapacity"])


def maximum_capacity(spec: dict) -> int:
    return math.floor(spec["instances"] * (1 + spec["upgradeStrategy"]["maximumOverCapacity"]))
