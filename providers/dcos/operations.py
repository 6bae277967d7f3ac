"""Server-group operations on Marathon (reference spinnaker-semantics §1.3–1.4).

A create description (Deck's or clouddriver's spelling) becomes Marathon app JSON here;
create, resize, destroy and terminate are one Marathon call each; `progress` says whether
Marathon has finished. Reserving names and remembering capacities is the caller's (spinui
keeps those in its database); this module only talks to Marathon.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from providers.dcos.marathon import MarathonClient
from providers.dcos.model import ServerGroup
from providers.dcos.transport import NotFound

LABEL_APPLICATION = "spinui.application"
LABEL_CLUSTER = "spinui.cluster"
LABEL_SEQUENCE = "spinui.sequence"
LABEL_OPERATION = "spinui.operation"
OWN_LABELS = (LABEL_APPLICATION, LABEL_CLUSTER, LABEL_SEQUENCE, LABEL_OPERATION)

NETWORKS = ("HOST", "BRIDGE", "USER")
HEALTH_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "COMMAND", "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP")
CONSTRAINT_OPERATORS = ("UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class DescriptionError(ValueError):
    """A description that cannot become an app: each error is (JSON path, message)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors))
        self.errors = errors


def _number(
    description: dict, key: str, errors: list, *, minimum: float = 0, integer: bool = False
):
    value = description.get(key)
    if value is None or value == "":
        return None
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        errors.append((f"/{key}", f"{value!r} is not a {'whole ' if integer else ''}number"))
        return None
    if isinstance(value, bool) or number < minimum:
        errors.append((f"/{key}", f"must be at least {minimum:g}"))
        return None
    return number


def desired_instances(description: dict[str, Any]) -> tuple[int | None, str]:
    """`capacity.desired` (Deck) or `desiredCapacity` (clouddriver); (None, why) if neither
    is a whole number ≥ 0."""
    capacity = description.get("capacity")
    if isinstance(capacity, dict) and capacity.get("desired") not in (None, ""):
        value, path = capacity["desired"], "/capacity/desired"
    elif description.get("desiredCapacity") not in (None, ""):
        value, path = description["desiredCapacity"], "/desiredCapacity"
    else:
        return 1, ""
    try:
        instances = int(value)
    except (TypeError, ValueError):
        return None, path
    if isinstance(value, bool) or instances < 0 or float(value) != instances:
        return None, path
    return instances, ""


def image_of(docker: dict[str, Any]) -> str:
    """`image.imageId`, or `registry/repository:tag`, or a plain string."""
    image = docker.get("image")
    if isinstance(image, str):
        return image
    if not isinstance(image, dict):
        return ""
    if image.get("imageId"):
        return str(image["imageId"])
    repository = str(image.get("repository") or "")
    if not repository:
        return ""
    registry = str(image.get("registry") or "").strip("/")
    name = f"{registry}/{repository}" if registry and registry != "docker.io" else repository
    return f"{name}:{image.get('tag') or 'latest'}"


def _network_type(description: dict[str, Any]) -> str:
    network = description.get("networkType", "HOST")
    if isinstance(network, dict):  # Deck keeps {type, name}
        network = network.get("type", "HOST")
    return str(network or "HOST").upper()


def _constraints(value: Any, errors: list) -> list[list[str]]:
    """`"attr:OP[:val],…"` (clouddriver) or a list of [attr, OP, val?]."""
    if value in (None, "", []):
        return []
    groups = (
        [part.split(":") for part in value.split(",") if part.strip()]
        if isinstance(value, str)
        else value
    )
    constraints = []
    for index, group in enumerate(groups if isinstance(groups, list) else []):
        parts = [str(p).strip() for p in group] if isinstance(group, list) else []
        if len(parts) not in (2, 3) or not parts[0]:
            errors.append(
                ("/constraints", f"constraint {index + 1} needs attribute:OPERATOR[:value]")
            )
            continue
        parts[1] = parts[1].upper()
        if parts[1] not in CONSTRAINT_OPERATORS:
            errors.append(
                (
                    "/constraints",
                    f"{parts[1]} is not one of {', '.join(CONSTRAINT_OPERATORS)}",
                )
            )
            continue
        constraints.append(parts)
    if not isinstance(groups, list):
        errors.append(("/constraints", "give attribute:OPERATOR[:value],… or a list"))
    return constraints


def _env(description: dict[str, Any], errors: list) -> dict[str, Any]:
    env = description.get("env") or {}
    if not isinstance(env, dict):
        errors.append(("/env", "give the environment as a map of name to value"))
        return {}
    secrets = description.get("secrets") or {}
    mapped: dict[str, Any] = {}
    for name, value in env.items():
        if not ENV_NAME.fullmatch(str(name)):
            errors.append((f"/env/{name}", "a name is letters, digits and _"))
        elif isinstance(value, dict) and "secret" in value:
            if value["secret"] not in secrets:
                errors.append((f"/env/{name}", f"no secret {value['secret']!r} under secrets"))
            mapped[name] = {"secret": str(value["secret"])}
        else:
            mapped[name] = "" if value is None else str(value)
    return mapped


def _health_checks(checks: Any, errors: list) -> list[dict[str, Any]]:
    mapped = []
    for index, check in enumerate(checks or []):
        path = f"/healthChecks/{index}"
        if not isinstance(check, dict):
            errors.append((path, "give each health check as an object"))
            continue
        protocol = str(check.get("protocol") or "HTTP").upper()
        if protocol not in HEALTH_PROTOCOLS:
            errors.append((f"{path}/protocol", f"one of {', '.join(HEALTH_PROTOCOLS)}"))
            continue
        entry: dict[str, Any] = {"protocol": protocol}
        if protocol == "COMMAND":
            command = check.get("command")
            command = command.get("value") if isinstance(command, dict) else command
            if not command:
                errors.append((f"{path}/command", "a COMMAND check needs a command"))
            entry["command"] = {"value": str(command or "")}
        elif "HTTP" in protocol:
            entry["path"] = str(check.get("path") or "/")
        for key in (
            "gracePeriodSeconds",
            "intervalSeconds",
            "timeoutSeconds",
            "maxConsecutiveFailures",
            "port",
            "portIndex",
        ):
            if check.get(key) not in (None, ""):
                entry[key] = _int(check[key], f"{path}/{key}", errors)
        if "ignoreHttp1xx" in check:
            entry["ignoreHttp1xx"] = bool(check["ignoreHttp1xx"])
        mapped.append(entry)
    return mapped


def _int(value: Any, path: str, errors: list) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.append((path, f"{value!r} is not a whole number"))
        return 0
    if number < 0:
        errors.append((path, "cannot be negative"))
    return number


def _readiness_checks(checks: Any, errors: list) -> list[dict[str, Any]]:
    keys = (
        "name",
        "protocol",
        "path",
        "portName",
        "intervalSeconds",
        "timeoutSeconds",
        "httpStatusCodesForReady",
        "preserveLastResponse",
    )
    mapped = []
    for index, check in enumerate(checks or []):
        if not isinstance(check, dict) or not check.get("portName"):
            errors.append((f"/readinessChecks/{index}/portName", "name the port to check"))
            continue
        mapped.append({key: check[key] for key in keys if check.get(key) not in (None, "")})
    return mapped


def _ports(
    description: dict[str, Any], network: str, app_id: str, errors: list
) -> tuple[list, list, dict]:
    """(portDefinitions, portMappings, VIP labels) from serviceEndpoints."""
    definitions, mappings, labels = [], [], {}
    for index, endpoint in enumerate(description.get("serviceEndpoints") or []):
        path = f"/serviceEndpoints/{index}"
        if not isinstance(endpoint, dict):
            errors.append((path, "give each endpoint as an object"))
            continue
        port = _int(endpoint.get("port", 0) or 0, f"{path}/port", errors)
        protocol = str(endpoint.get("protocol") or "tcp").lower()
        entry: dict[str, Any] = {"protocol": protocol}
        if endpoint.get("name"):
            entry["name"] = str(endpoint["name"])
        if endpoint.get("labels"):
            entry["labels"] = dict(endpoint["labels"])
        if network == "HOST":
            definitions.append({"port": port, **entry})
        else:
            mapping = {"containerPort": port, **entry}
            if endpoint.get("exposeToHost", network == "BRIDGE"):
                mapping["hostPort"] = 0
            if endpoint.get("servicePort") not in (None, ""):
                mapping["servicePort"] = _int(
                    endpoint["servicePort"], f"{path}/servicePort", errors
                )
            mappings.append(mapping)
        if endpoint.get("loadBalanced"):
            labels[f"VIP_{index}"] = f"{app_id}:{port}"
    return definitions, mappings, labels


def _volumes(description: dict[str, Any], errors: list) -> list[dict[str, Any]]:
    volumes = []
    for kind in ("persistentVolumes", "dockerVolumes", "externalVolumes"):
        for index, volume in enumerate(description.get(kind) or []):
            path = f"/{kind}/{index}"
            if not isinstance(volume, dict) or not volume.get("containerPath"):
                errors.append((f"{path}/containerPath", "give the path inside the container"))
                continue
            entry = {"containerPath": volume["containerPath"], "mode": volume.get("mode", "RW")}
            if kind == "persistentVolumes":
                size = (volume.get("persistent") or {}).get("size")
                entry["persistent"] = {"size": _int(size or 0, f"{path}/persistent/size", errors)}
            elif kind == "dockerVolumes":
                if not volume.get("hostPath"):
                    errors.append((f"{path}/hostPath", "give the path on the host"))
                entry["hostPath"] = volume.get("hostPath", "")
            else:
                external = volume.get("external") or {}
                if not external.get("name"):
                    errors.append((f"{path}/external/name", "name the external volume"))
                entry["external"] = external
            volumes.append(entry)
    return volumes


def _fetch(description: dict[str, Any], errors: list) -> list[dict[str, Any]]:
    fetch = []
    for index, uri in enumerate(description.get("fetch") or []):
        if not isinstance(uri, dict) or not uri.get("uri"):
            errors.append((f"/fetch/{index}/uri", "give the URI to fetch"))
            continue
        entry = {
            "uri": uri["uri"],
            "executable": bool(uri.get("executable", False)),
            "extract": bool(uri.get("extract", True)),
            "cache": bool(uri.get("cache", False)),
        }
        if uri.get("outputFile") or uri.get("destPath"):
            entry["destPath"] = uri.get("outputFile") or uri.get("destPath")
        fetch.append(entry)
    return fetch


def app_definition(
    description: dict[str, Any], app_id: str, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """The Marathon app of a create description, or DescriptionError with every problem."""
    errors: list[tuple[str, str]] = []
    instances, bad_path = desired_instances(description)
    if instances is None:
        errors.append((bad_path, "the number of instances is a whole number, 0 or more"))
    app: dict[str, Any] = {"id": app_id, "instances": instances or 0}
    for key, default, minimum in (("cpus", 0.5, 0.001), ("mem", 512, 1), ("disk", 0, 0)):
        value = _number(description, key, errors, minimum=minimum)
        app[key] = default if value is None else value
    gpus = _number(description, "gpus", errors, integer=True)
    if gpus:
        app["gpus"] = gpus
    docker = description.get("docker") or {}
    image = image_of(docker) if isinstance(docker, dict) else ""
    cmd, args = description.get("cmd"), description.get("args")
    if isinstance(args, str):
        args = args.split()
    if cmd and args:
        errors.append(("/args", "give cmd or args, not both"))
    if not image and not cmd and not args:
        errors.append(("/docker/image", "give an image, or a command to run"))
    if cmd:
        app["cmd"] = str(cmd)
    if args:
        app["args"] = [str(a) for a in args]
    user = description.get("dcosUser") or description.get("user")
    if user:
        app["user"] = str(user)
    network = _network_type(description)
    if network not in NETWORKS:
        errors.append(("/networkType", f"one of {', '.join(NETWORKS)}"))
    definitions, mappings, vip_labels = _ports(description, network, app_id, errors)
    if image:
        parameters = docker.get("parameters") or []
        if isinstance(parameters, dict):
            parameters = [{"key": k, "value": v} for k, v in parameters.items()]
        app["container"] = {
            "type": "DOCKER",
            "docker": {
                "image": image,
                "forcePullImage": bool(
                    docker.get("forcePullImage", description.get("forcePullImage", False))
                ),
                "privileged": bool(docker.get("privileged", False)),
                "parameters": [
                    {"key": str(p.get("key")), "value": str(p.get("value", ""))}
                    for p in parameters
                    if isinstance(p, dict) and p.get("key")
                ],
            },
        }
    if network == "HOST":
        app["networks"] = [{"mode": "host"}]
        if definitions:  # none given: Marathon's default, one port (PORT0) named "default"
            app["portDefinitions"] = definitions
    elif network == "BRIDGE":
        app["networks"] = [{"mode": "container/bridge"}]
    elif network == "USER":
        name = description.get("networkName")
        if not name and isinstance(description.get("networkType"), dict):
            name = description["networkType"].get("name", "")
        if not name:
            errors.append(("/networkName", "a USER network needs its name"))
        app["networks"] = [{"mode": "container", "name": name}]
    if network != "HOST":
        app.setdefault("container", {"type": "DOCKER" if image else "MESOS"})
        app["container"]["portMappings"] = mappings
    volumes = _volumes(description, errors)
    if volumes:
        app.setdefault("container", {"type": "MESOS"})["volumes"] = volumes
    if description.get("requirePorts"):
        app["requirePorts"] = True
    env = _env(description, errors)
    if env:
        app["env"] = env
    secrets = description.get("secrets") or {}
    if secrets:
        app["secrets"] = {
            key: {"source": value.get("source", "")}
            if isinstance(value, dict)
            else {"source": value}
            for key, value in secrets.items()
        }
    given_labels = description.get("labels") or {}
    if not isinstance(given_labels, dict):
        errors.append(("/labels", "give labels as a map of name to text"))
        given_labels = {}
    app["labels"] = {
        **{str(k): str(v) for k, v in given_labels.items() if k not in OWN_LABELS},
        **vip_labels,
        **(labels or {}),
    }
    checks = _health_checks(description.get("healthChecks"), errors)
    if checks:
        app["healthChecks"] = checks
    readiness = _readiness_checks(description.get("readinessChecks"), errors)
    if readiness:
        app["readinessChecks"] = readiness
    constraints = _constraints(description.get("constraints"), errors)
    if constraints:
        app["constraints"] = constraints
    fetch = _fetch(description, errors)
    if fetch:
        app["fetch"] = fetch
    strategy = description.get("upgradeStrategy")
    if isinstance(strategy, dict) and strategy:
        app["upgradeStrategy"] = {}
        for key in ("minimumHealthCapacity", "maximumOverCapacity"):
            if strategy.get(key) not in (None, ""):
                value = _number(strategy, key, errors)
                if value is not None and value > 1:
                    errors.append((f"/upgradeStrategy/{key}", "is between 0 and 1"))
                app["upgradeStrategy"][key] = value
    for key, integer in (
        ("backoffSeconds", True),
        ("backoffFactor", False),
        ("maxLaunchDelaySeconds", True),
        ("taskKillGracePeriodSeconds", True),
    ):
        value = _number(description, key, errors, integer=integer)
        if value is not None:
            app[key] = value
    for key in ("acceptedResourceRoles", "dependencies"):
        if description.get(key):
            app[key] = list(description[key])
    if isinstance(description.get("residency"), dict):
        app["residency"] = description["residency"]
    if errors:
        raise DescriptionError(errors)
    return app


def description_from(definition: dict[str, Any]) -> dict[str, Any]:
    """A create description (clouddriver's spelling) of an existing app, for clone: it never
    carries spinui's own labels, so the clone gets a new name and operation id."""
    container = definition.get("container") or {}
    docker = container.get("docker") or {}
    networks = definition.get("networks") or [{"mode": "host"}]
    mode = networks[0].get("mode", "host")
    network = {"host": "HOST", "container/bridge": "BRIDGE"}.get(mode, "USER")
    if network == "HOST":
        endpoints = [
            {"port": p.get("port", 0), "protocol": p.get("protocol", "tcp"), "name": p.get("name")}
            for p in definition.get("portDefinitions") or []
        ]
    else:
        endpoints = [
            {
                "port": p.get("containerPort", 0),
                "protocol": p.get("protocol", "tcp"),
                "name": p.get("name"),
                "exposeToHost": "hostPort" in p,
            }
            for p in container.get("portMappings") or []
        ]
    vips = definition.get("labels") or {}
    for index, endpoint in enumerate(endpoints):
        endpoint["loadBalanced"] = f"VIP_{index}" in vips or None
    description: dict[str, Any] = {
        "desiredCapacity": definition.get("instances", 1),
        "cpus": definition.get("cpus", 0.5),
        "mem": definition.get("mem", 512),
        "disk": definition.get("disk", 0),
        "gpus": definition.get("gpus", 0),
        "networkType": network,
        "serviceEndpoints": [{k: v for k, v in e.items() if v is not None} for e in endpoints],
        "labels": {
            k: v
            for k, v in (definition.get("labels") or {}).items()
            if k not in OWN_LABELS and not k.startswith("VIP_")
        },
    }
    if network == "USER":
        description["networkName"] = networks[0].get("name", "")
    if docker.get("image"):
        description["docker"] = {
            "image": {"imageId": docker["image"]},
            "forcePullImage": docker.get("forcePullImage", False),
            "privileged": docker.get("privileged", False),
            "parameters": docker.get("parameters") or [],
        }
    for key in (
        "cmd",
        "args",
        "env",
        "secrets",
        "healthChecks",
        "readinessChecks",
        "fetch",
        "upgradeStrategy",
        "backoffSeconds",
        "backoffFactor",
        "maxLaunchDelaySeconds",
        "taskKillGracePeriodSeconds",
        "acceptedResourceRoles",
        "dependencies",
        "residency",
        "requirePorts",
    ):
        if definition.get(key) not in (None, "", [], {}):
            description[key] = definition[key]
    if definition.get("user"):
        description["dcosUser"] = definition["user"]
    if definition.get("constraints"):
        description["constraints"] = [list(c) for c in definition["constraints"]]
    return description


@dataclass(frozen=True)
class Progress:
    """Whether Marathon has finished with an app, and if not, what it is waiting for."""

    done: bool
    message: str
    server_group: ServerGroup | None = None


class Operations:
    """The Marathon calls behind each operation, for one region."""

    def __init__(self, marathon: MarathonClient) -> None:
        self.marathon = marathon
        self.transport = marathon.transport

    def _path(self, path: str) -> str:
        return self.marathon._path(path)

    def find_created_by(self, operation_id: str) -> dict[str, Any] | None:
        """The app an earlier attempt of this operation created, if any."""
        body = self.transport.get_json(
            self._path("/v2/apps"), params={"label": f"{LABEL_OPERATION}=={operation_id}"}
        )
        apps = body.get("apps") or []
        return apps[0] if apps else None

    def create(self, definition: dict[str, Any]) -> str:
        """POST the app; its deployment id. Marathon's 422/409 raise with its message."""
        response = self.transport.request("POST", self._path("/v2/apps"), json=definition)
        return _deployment_id(response)

    def resize(self, app_id: str, instances: int) -> str:
        """Only `instances` changes: a scale, which restarts nothing."""
        response = self.transport.request(
            "PUT",
            self._path("/v2/apps" + quote(app_id)),
            params={"force": "true"},
            json={"instances": instances},
        )
        return _deployment_id(response)

    def destroy(self, app_id: str) -> str:
        try:
            response = self.transport.request(
                "DELETE", self._path("/v2/apps" + quote(app_id)), params={"force": "true"}
            )
        except NotFound:
            return ""  # already gone: a retried destroy
        return _deployment_id(response)

    def terminate(self, task_ids: list[str], *, scale: bool) -> str:
        """Kill tasks; with scale the app shrinks by as many (a deployment), without it
        Marathon starts replacements."""
        response = self.transport.request(
            "POST",
            self._path("/v2/tasks/delete"),
            params={"scale": "true" if scale else "false", "force": "true"},
            json={"ids": task_ids},
        )
        return _deployment_id(response)

    def stop_deployment(self, deployment_id: str) -> None:
        """Stop a deployment where it stands (no rollback): the app keeps what it has."""
        with contextlib.suppress(NotFound):  # it finished meanwhile
            self.transport.request(
                "DELETE",
                self._path("/v2/deployments/" + quote(deployment_id, safe="")),
                params={"force": "true"},
            )

    def progress(self, app_id: str, *, gone: bool = False) -> Progress:
        """Done when the app has no deployment and, for growth, tasksHealthy = instances
        (tasksRunning when it has no health checks); with GONE, when the app is gone."""
        server_group = self.marathon.server_group(app_id)
        if server_group is None:
            return Progress(gone, "" if gone else f"{app_id} does not exist", None)
        if gone:
            return Progress(False, f"waiting for Marathon to remove {app_id}", server_group)
        if server_group.deployments:
            ids = ", ".join(d.id for d in server_group.deployments)
            return Progress(False, f"deployment {ids} in progress", server_group)
        checked = bool(server_group.definition.get("healthChecks"))
        counted = server_group.tasks_healthy if checked else server_group.tasks_running
        if counted != server_group.instances:
            what = "healthy" if checked else "running"
            return Progress(
                False,
                f"{counted} of {server_group.instances} tasks {what}",
                server_group,
            )
        return Progress(True, "", server_group)


def _deployment_id(response) -> str:
    header = response.headers.get("Marathon-Deployment-Id")
    if header:
        return header
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        return str(body.get("deploymentId") or "")
    return ""
