"""What the provider returns: server groups (Marathon apps), instances (tasks), deployments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

UP, DOWN, STARTING, UNKNOWN, SUCCEEDED, FAILED = (
    "Up",
    "Down",
    "Starting",
    "Unknown",
    "Succeeded",
    "Failed",
)


@dataclass(frozen=True)
class MarathonInfo:
    version: str
    leader: str | None
    name: str
    elected: bool | None


@dataclass(frozen=True)
class Deployment:
    id: str


@dataclass(frozen=True)
class Instance:
    id: str
    app_id: str
    state: str
    health: str
    host: str
    ports: tuple[int, ...]
    ip_addresses: tuple[str, ...]
    version: str
    staged_at: datetime | None
    started_at: datetime | None
    # Marathon's healthCheckResults, as given.
    health_checks: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ServerGroup:
    """One Marathon app under `/<account>/`, with its tasks."""

    app_id: str
    account: str
    # `<cluster>[_<group>…]`
    region: str
    name: str
    # Parsed from the name; application is "" when the name is not a server group name.
    application: str
    cluster: str
    stack: str
    detail: str
    sequence: int | None
    instances: int
    image: str
    cpus: float
    mem: float
    disk: float
    gpus: float
    version: str
    last_config_change_at: datetime | None
    last_scaling_at: datetime | None
    tasks_staged: int
    tasks_running: int
    tasks_healthy: int
    tasks_unhealthy: int
    deployments: tuple[Deployment, ...]
    tasks: tuple[Instance, ...]
    last_task_failure: dict[str, Any] | None
    # The app definition as Marathon returned it, without the status fields.
    definition: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def managed(self) -> bool:
        """Named by spinui's rules (`…-vNNN`): other apps are shown and never touched."""
        return self.sequence is not None

    @property
    def disabled(self) -> bool:
        # Spinnaker's DC/OS rule until load balancers arrive: disabled = scaled to zero.
        return self.instances <= 0

    @property
    def deploying(self) -> bool:
        return bool(self.deployments)

    @property
    def image_tag(self) -> str:
        _, _, last = self.image.rpartition("/")
        return last.rpartition(":")[2] if ":" in last else ("latest" if self.image else "")
