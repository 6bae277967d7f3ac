"""Find Image from Cluster: the Docker image a cluster runs, for a later deploy to take
(`fromContext` with this stage's refId). Read-only: READ on the application and account.

Orca's FindImageFromClusterTask with clouddriver's server-group summary: in each region, the
server groups of the cluster (only enabled ones unless `onlyEnabled` is false), one picked
by `selectionStrategy`.
"""

from __future__ import annotations

from typing import Any

from pipelines import server_groups as sg
from pipelines.server_groups import OperationError
from pipelines.stages import ConfigError, Field, Outcome, StageRun, StageType, register
from pipelines.stages.clusters import (
    CLUSTER_FIELDS,
    cluster_errors,
    flag,
    members_of,
    readable_cluster,
    size,
)
from pipelines.stages.server_groups import _failed
from pipelines.status import Status
from providers.dcos.model import ServerGroup
from providers.dcos.transport import DcosError

STRATEGIES = ("NEWEST", "LARGEST", "OLDEST", "FAIL")
DEFAULT_REGISTRY = "docker.io"


def image_parts(image: str) -> tuple[str, str, str]:
    """(registry, repository, tag) of a Docker image reference as Docker reads it: the first
    part is a registry when it has a dot or a port or is localhost, else docker.io."""
    name, _, digest = image.partition("@")
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    tag = name[colon + 1 :] if colon > last_slash else ""
    name = name[:colon] if colon > last_slash else name
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = DEFAULT_REGISTRY, name
    return registry, repository, tag or ("" if digest else "latest")


def chosen(members: list[ServerGroup], strategy: str, where: str) -> ServerGroup:
    """The server group STRATEGY picks from MEMBERS (newest first)."""
    if strategy == "FAIL" and len(members) > 1:
        names = ", ".join(m.name for m in members)
        raise OperationError(
            f"selection strategy FAIL: {where} has {len(members)} server groups to choose "
            f"from ({names})"
        )
    if strategy == "OLDEST":
        return members[-1]
    if strategy == "LARGEST":  # ties go to the newest
        return max(members, key=size)
    return members[0]


@register
class FindImage(StageType):
    type = "findImage"
    aliases = ("findImageFromCluster",)
    label = "Find Image from Cluster"
    description = (
        "Finds the Docker image a cluster runs in each region, for a later deploy to use "
        "(its image fromContext with this stage's refId)."
    )
    fields = (
        *CLUSTER_FIELDS,
        Field("selectionStrategy", "Server group selection", "choice", choices=STRATEGIES),
        Field("onlyEnabled", "Only enabled server groups", "boolean"),
    )

    def validate(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        errors = cluster_errors(config, path)
        strategy = config.get("selectionStrategy", "NEWEST")
        if strategy not in STRATEGIES and "${" not in str(strategy):
            errors.append(
                ConfigError(f"{path}/selectionStrategy", f"one of {', '.join(STRATEGIES)}")
            )
        return errors

    def run(self, run: StageRun) -> Outcome:
        context = run.context
        account = sg.account_of(context)
        strategy = str(context.get("selectionStrategy") or "NEWEST")
        only_enabled = flag(context.get("onlyEnabled", True))
        try:
            cluster = readable_cluster(context, run.run_as)
            if strategy not in STRATEGIES:
                raise OperationError(f"selectionStrategy {strategy!r}: one of {STRATEGIES}")
            details = []
            for region in sg.regions_of(context):
                where = f"cluster {cluster} in {account}/{region}"
                members = members_of(account, region, cluster)
                if only_enabled:
                    members = [m for m in members if not m.disabled]
                if not members:
                    enabled = " enabled" if only_enabled else ""
                    raise OperationError(
                        f"{where} has no{enabled} server group to take the image of"
                    )
                server_group = chosen(members, strategy, where)
                if not server_group.image:
                    raise OperationError(f"{server_group.name} in {account}/{region} runs no image")
                details.append(self._detail(run, server_group, cluster))
        except (OperationError, DcosError) as error:
            return _failed(error)
        if not details:
            return Outcome(Status.TERMINAL, error="give the region (or regions) to look in")
        found = {"deploymentDetails": details, "amiDetails": details}
        return Outcome(Status.SUCCEEDED, context=found, outputs=found)

    @staticmethod
    def _detail(run: StageRun, server_group: ServerGroup, cluster: str) -> dict[str, Any]:
        registry, repository, tag = image_parts(server_group.image)
        return {
            "refId": run.ref_id,
            "account": server_group.account,
            "region": server_group.region,
            "cloudProvider": "dcos",
            "cluster": cluster,
            "serverGroup": server_group.name,
            "sourceServerGroup": server_group.name,
            "imageId": server_group.image,
            "ami": server_group.image,
            "imageName": server_group.image,
            "registry": registry,
            "repository": repository,
            "tag": tag,
        }
