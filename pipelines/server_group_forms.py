"""The create-server-group form: every field of a description (spinnaker-semantics §1.3),
Deck's defaults (cpus 0.5, mem 512, 1 instance, HOST), per-field messages, and a preview of
the Marathon id and the app JSON that will be sent."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms

from pipelines.models import ReservedName
from providers.dcos import operations as ops
from providers.dcos.naming import (
    MarathonAppId,
    NamingError,
    ServerGroupName,
    cluster_name,
    next_sequence,
)
from spinui.models import Account, Application, Region, ServerGroup
from spinui.permissions import WRITE, user_can

PORT_LINE = re.compile(r"(?:(?P<name>[a-z0-9-]+):)?(?P<port>\d+)(?:/(?P<protocol>tcp|udp))?")
# Where a description's error lands in the form.
FIELD_OF_PATH = {
    "cpus": "cpus",
    "mem": "mem",
    "disk": "disk",
    "gpus": "gpus",
    "docker": "image",
    "capacity": "instances",
    "desiredCapacity": "instances",
    "cmd": "cmd",
    "args": "args",
    "networkType": "network",
    "networkName": "network_name",
    "serviceEndpoints": "ports",
    "env": "env",
    "secrets": "secrets",
    "labels": "labels",
    "healthChecks": "health_protocol",
    "readinessChecks": "readiness_port_name",
    "constraints": "constraints",
    "fetch": "fetch",
    "upgradeStrategy": "minimum_health_capacity",
    "backoffSeconds": "backoff_seconds",
    "backoffFactor": "backoff_factor",
    "maxLaunchDelaySeconds": "max_launch_delay_seconds",
    "taskKillGracePeriodSeconds": "task_kill_grace_period_seconds",
    "dockerVolumes": "volumes",
    "persistentVolumes": "persistent_volumes",
}
HEALTH_CHOICES = [("", "none")] + [(p, p) for p in ops.HEALTH_PROTOCOLS]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _pairs(text: str, field: str) -> dict[str, str]:
    pairs = {}
    for number, line in enumerate(_lines(text), 1):
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise forms.ValidationError(f"Line {number}: write {field}.")
        pairs[key.strip()] = value.strip()
    return pairs


class ServerGroupForm(forms.Form):
    placement = forms.ChoiceField(label="Account / region")
    stack = forms.CharField(required=False, help_text="Lowercase letters and digits, e.g. prod.")
    detail = forms.CharField(
        required=False, help_text="Lowercase letters, digits and single dashes."
    )
    image = forms.CharField(label="Docker image", required=False, help_text="e.g. spinui/hello:1.0")
    force_pull_image = forms.BooleanField(label="Always pull the image", required=False)
    docker_parameters = forms.CharField(
        label="Docker parameters",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One key=value per line.",
    )
    instances = forms.IntegerField(min_value=0, initial=1)
    cpus = forms.FloatField(label="CPUs", min_value=0.001, initial=0.5)
    mem = forms.FloatField(label="Memory (MiB)", min_value=1, initial=512)
    disk = forms.FloatField(label="Disk (MiB)", min_value=0, initial=0)
    gpus = forms.IntegerField(label="GPUs", min_value=0, initial=0)
    network = forms.ChoiceField(choices=[(n, n) for n in ops.NETWORKS], initial="HOST")
    network_name = forms.CharField(label="Network name (USER)", required=False)
    ports = forms.CharField(
        label="Service endpoints",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line: [name:]port[/tcp|udp], e.g. http:8080. Port 0 picks one.",
    )
    cmd = forms.CharField(label="Command", required=False, help_text="Run with /bin/sh -c.")
    args = forms.CharField(label="Arguments", required=False, help_text="Instead of a command.")
    user = forms.CharField(required=False)
    env = forms.CharField(
        label="Environment",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One NAME=value per line; NAME=secret:KEY refers to a secret below.",
    )
    secrets = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One KEY=store/path per line.",
    )
    labels = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One key=value per line.",
    )
    health_protocol = forms.ChoiceField(
        label="Health check", choices=HEALTH_CHOICES, required=False
    )
    health_path = forms.CharField(label="Health check path", required=False, initial="/health")
    health_command = forms.CharField(label="Health check command", required=False)
    health_port_index = forms.IntegerField(label="Health check port index", min_value=0, initial=0)
    health_grace_seconds = forms.IntegerField(label="Grace period (s)", min_value=0, initial=300)
    health_interval_seconds = forms.IntegerField(label="Interval (s)", min_value=1, initial=60)
    health_timeout_seconds = forms.IntegerField(label="Timeout (s)", min_value=1, initial=20)
    health_max_failures = forms.IntegerField(label="Failures before a kill", min_value=0, initial=3)
    readiness_port_name = forms.CharField(label="Readiness check port name", required=False)
    readiness_path = forms.CharField(label="Readiness check path", required=False, initial="/")
    constraints = forms.CharField(
        required=False, help_text="attribute:OPERATOR[:value],… e.g. hostname:UNIQUE"
    )
    fetch = forms.CharField(
        label="Fetch URIs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One URI per line.",
    )
    minimum_health_capacity = forms.FloatField(
        label="Upgrade: minimum health capacity", min_value=0, max_value=1, required=False
    )
    maximum_over_capacity = forms.FloatField(
        label="Upgrade: maximum over capacity", min_value=0, max_value=1, required=False
    )
    backoff_seconds = forms.IntegerField(min_value=0, required=False)
    backoff_factor = forms.FloatField(min_value=1, required=False)
    max_launch_delay_seconds = forms.IntegerField(min_value=0, required=False)
    task_kill_grace_period_seconds = forms.IntegerField(
        label="Kill grace period (s)", min_value=0, required=False
    )
    volumes = forms.CharField(
        label="Docker volumes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One containerPath:hostPath[:RO] per line.",
    )
    persistent_volumes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One containerPath:sizeMiB per line.",
    )
    extra = forms.CharField(
        label="More (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text='Further description fields, e.g. {"externalVolumes": […]}.',
    )

    def __init__(self, *args, user, application: Application, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user, self.application = user, application
        writable = {a.pk for a in Account.objects.all() if user_can(user, WRITE, a)}
        self.fields["placement"].choices = [
            (f"{r.account.name}/{r.name}", f"{r.account.name} / {r.name}")
            for r in Region.objects.select_related("account").order_by("account__name", "name")
            if r.account_id in writable
        ]

    # Reading the form

    def clean_stack(self) -> str:
        stack = self.cleaned_data["stack"].strip()
        try:
            cluster_name(self.application.name, stack)
        except NamingError as error:
            raise forms.ValidationError(str(error)) from None
        return stack

    def clean_detail(self) -> str:
        detail = self.cleaned_data["detail"].strip()
        try:
            cluster_name(self.application.name, "", detail)
        except NamingError as error:
            raise forms.ValidationError(str(error)) from None
        return detail

    def clean_ports(self) -> list[dict[str, Any]]:
        endpoints = []
        for number, line in enumerate(_lines(self.cleaned_data["ports"]), 1):
            match = PORT_LINE.fullmatch(line)
            if not match:
                raise forms.ValidationError(f"Line {number}: write [name:]port[/tcp|udp].")
            endpoint = {"port": int(match["port"]), "protocol": match["protocol"] or "tcp"}
            if match["name"]:
                endpoint["name"] = match["name"]
            endpoints.append(endpoint)
        return endpoints

    def clean_env(self) -> dict[str, Any]:
        env = _pairs(self.cleaned_data["env"], "NAME=value")
        return {
            k: {"secret": v.removeprefix("secret:")} if v.startswith("secret:") else v
            for k, v in env.items()
        }

    def clean_secrets(self) -> dict[str, Any]:
        pairs = _pairs(self.cleaned_data["secrets"], "KEY=store/path")
        return {k: {"source": v} for k, v in pairs.items()}

    def clean_labels(self) -> dict[str, str]:
        return _pairs(self.cleaned_data["labels"], "key=value")

    def clean_docker_parameters(self) -> list[dict[str, str]]:
        pairs = _pairs(self.cleaned_data["docker_parameters"], "key=value")
        return [{"key": k, "value": v} for k, v in pairs.items()]

    def clean_volumes(self) -> list[dict[str, str]]:
        volumes = []
        for number, line in enumerate(_lines(self.cleaned_data["volumes"]), 1):
            parts = line.split(":")
            if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("RO", "RW")):
                raise forms.ValidationError(f"Line {number}: write containerPath:hostPath[:RO].")
            mode = parts[2] if len(parts) == 3 else "RW"
            volumes.append({"containerPath": parts[0], "hostPath": parts[1], "mode": mode})
        return volumes

    def clean_persistent_volumes(self) -> list[dict[str, Any]]:
        volumes = []
        for number, line in enumerate(_lines(self.cleaned_data["persistent_volumes"]), 1):
            path, _, size = line.partition(":")
            if not path or not size.isdigit():
                raise forms.ValidationError(f"Line {number}: write containerPath:sizeMiB.")
            volumes.append({"containerPath": path, "mode": "RW", "persistent": {"size": int(size)}})
        return volumes

    def clean_extra(self) -> dict[str, Any]:
        text = self.cleaned_data["extra"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(f"Not JSON: {error}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("Give a JSON object of description fields.")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            ops.app_definition(self.description(), "/check/check-v000")
        except ops.DescriptionError as error:
            for path, message in error.errors:
                field = FIELD_OF_PATH.get(path.strip("/").split("/")[0])
                self.add_error(field, f"{message} ({path})" if field is None else message)
        return cleaned

    def where(self) -> dict[str, str]:
        account, _, region = self.cleaned_data["placement"].partition("/")
        return {
            "credentials": account,
            "region": region,
            "stack": self.cleaned_data.get("stack", ""),
            "freeFormDetails": self.cleaned_data.get("detail", ""),
        }

    def description(self) -> dict[str, Any]:
        """The create description, in clouddriver's spelling."""
        data = self.cleaned_data
        description: dict[str, Any] = {
            "desiredCapacity": data["instances"],
            "cpus": data["cpus"],
            "mem": data["mem"],
            "disk": data["disk"],
            "gpus": data["gpus"],
            "networkType": data["network"],
            "serviceEndpoints": data["ports"],
        }
        if data["image"]:
            description["docker"] = {
                "image": {"imageId": data["image"].strip()},
                "forcePullImage": data["force_pull_image"],
                "parameters": data["docker_parameters"],
            }
        for key, field in (
            ("networkName", "network_name"),
            ("cmd", "cmd"),
            ("args", "args"),
            ("dcosUser", "user"),
            ("env", "env"),
            ("secrets", "secrets"),
            ("labels", "labels"),
            ("constraints", "constraints"),
            ("dockerVolumes", "volumes"),
            ("persistentVolumes", "persistent_volumes"),
            ("backoffSeconds", "backoff_seconds"),
            ("backoffFactor", "backoff_factor"),
            ("maxLaunchDelaySeconds", "max_launch_delay_seconds"),
            ("taskKillGracePeriodSeconds", "task_kill_grace_period_seconds"),
        ):
            if data.get(field) not in (None, "", [], {}):
                description[key] = data[field]
        if data.get("fetch"):
            description["fetch"] = [{"uri": uri} for uri in _lines(data["fetch"])]
        if data.get("health_protocol"):
            check = {
                "protocol": data["health_protocol"],
                "path": data["health_path"],
                "portIndex": data["health_port_index"],
                "gracePeriodSeconds": data["health_grace_seconds"],
                "intervalSeconds": data["health_interval_seconds"],
                "timeoutSeconds": data["health_timeout_seconds"],
                "maxConsecutiveFailures": data["health_max_failures"],
            }
            if data["health_protocol"] == "COMMAND":
                check["command"] = {"value": data["health_command"]}
            description["healthChecks"] = [check]
        if data.get("readiness_port_name"):
            description["readinessChecks"] = [
                {"portName": data["readiness_port_name"], "path": data["readiness_path"] or "/"}
            ]
        strategy = {
            key: data[field]
            for key, field in (
                ("minimumHealthCapacity", "minimum_health_capacity"),
                ("maximumOverCapacity", "maximum_over_capacity"),
            )
            if data.get(field) is not None
        }
        if strategy:
            description["upgradeStrategy"] = strategy
        return {**description, **data.get("extra", {})}

    # The preview

    def preview(self) -> dict[str, Any]:
        """The Marathon id the create will (most likely) get and the app JSON it will send."""
        self.is_valid()
        if any(key in self.errors for key in ("placement", "stack", "detail")):
            return {}
        placement = self.where()
        account, region = placement["credentials"], placement["region"]
        cluster = ServerGroupName(
            self.application.name, placement["stack"], placement["freeFormDetails"]
        )
        rows = ServerGroup.objects.filter(
            account_name=account, region_name=region, cluster=cluster.cluster, managed=True
        ).values_list("name", "last_config_change_at")
        existing = [(ServerGroupName.parse(n), at) for n, at in rows if ServerGroupName.parse(n)]
        sequence = next_sequence(existing)
        reserved = set(
            ReservedName.objects.filter(account=account, region=region).values_list(
                "name", flat=True
            )
        )
        for _ in range(1000):
            if str(cluster.with_sequence(sequence)) not in reserved:
                break
            sequence = (sequence + 1) % 1000
        name = str(cluster.with_sequence(sequence))
        app_id = str(MarathonAppId.build(account, region, name))
        labels = {
            ops.LABEL_APPLICATION: cluster.application,
            ops.LABEL_CLUSTER: cluster.cluster,
            ops.LABEL_SEQUENCE: str(sequence),
            ops.LABEL_OPERATION: "(the operation's id)",
        }
        if self.errors:
            return {"name": name, "marathon_id": app_id, "definition": None}
        definition = ops.app_definition(self.description(), app_id, labels)
        return {"name": name, "marathon_id": app_id, "definition": definition}

    def preview_initial(self) -> dict[str, Any]:
        data = {}
        for name, field in self.fields.items():
            value = self.initial.get(name, field.initial)
            if value is None:
                continue
            data[name] = "on" if value is True else ("" if value is False else value)
        if "placement" not in data and self.fields["placement"].choices:
            data["placement"] = self.fields["placement"].choices[0][0]
        bound = ServerGroupForm(data, user=self.user, application=self.application)
        return bound.preview()

    @staticmethod
    def initial_from(description: dict[str, Any], *, account: str, row) -> dict[str, Any]:
        """The form's initial values from a description (to clone ROW)."""
        docker = description.get("docker") or {}
        checks = description.get("healthChecks") or [{}]
        check = checks[0]
        initial: dict[str, Any] = {
            "placement": account,
            "stack": row.stack,
            "detail": row.detail,
            "image": ops.image_of(docker),
            "force_pull_image": bool(docker.get("forcePullImage")),
            "docker_parameters": "\n".join(
                f"{p['key']}={p['value']}" for p in docker.get("parameters") or []
            ),
            "instances": description.get("desiredCapacity", 1),
            "cpus": description.get("cpus"),
            "mem": description.get("mem"),
            "disk": description.get("disk"),
            "gpus": description.get("gpus"),
            "network": description.get("networkType"),
            "network_name": description.get("networkName", ""),
            "ports": "\n".join(
                (f"{e['name']}:" if e.get("name") else "")
                + f"{e.get('port', 0)}/{e.get('protocol', 'tcp')}"
                for e in description.get("serviceEndpoints") or []
            ),
            "cmd": description.get("cmd", ""),
            "args": " ".join(description.get("args") or []),
            "user": description.get("dcosUser", ""),
            "env": "\n".join(
                f"{k}=secret:{v['secret']}" if isinstance(v, dict) else f"{k}={v}"
                for k, v in (description.get("env") or {}).items()
            ),
            "secrets": "\n".join(
                f"{k}={v.get('source', '')}" for k, v in (description.get("secrets") or {}).items()
            ),
            "labels": "\n".join(f"{k}={v}" for k, v in (description.get("labels") or {}).items()),
            "constraints": ",".join(":".join(c) for c in description.get("constraints") or []),
            "fetch": "\n".join(f["uri"] for f in description.get("fetch") or []),
        }
        if check:
            initial.update(
                health_protocol=check.get("protocol", ""),
                health_path=check.get("path", "/"),
                health_command=(check.get("command") or {}).get("value", ""),
                health_port_index=check.get("portIndex", 0),
                health_grace_seconds=check.get("gracePeriodSeconds", 300),
                health_interval_seconds=check.get("intervalSeconds", 60),
                health_timeout_seconds=check.get("timeoutSeconds", 20),
                health_max_failures=check.get("maxConsecutiveFailures", 3),
            )
        return {k: v for k, v in initial.items() if v is not None}
