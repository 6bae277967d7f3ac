"""Names as Spinnaker's DC/OS provider spells them (DESIGN.md "Names").

server group `<app>[-<stack>[-<detail>]]-vNNN`, cluster = that without `-vNNN`;
Marathon id `/<account>/<group…>/<server group>`; region `<cluster>[_<group>…]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

SEGMENT = re.compile(r"[a-z0-9]+(-+[a-z0-9]+)*")
VERSIONED = re.compile(r"(?P<cluster>.+?)(?:-v(?P<sequence>\d{3}))?")
CLUSTER = re.compile(
    r"(?P<app>[a-z0-9]+)"
    r"(?:-(?P<stack>[a-z0-9]*)(?:-(?P<detail>[a-z0-9]+(?:-[a-z0-9]+)*))?)?"
)
SEQUENCES = 1000


class NamingError(ValueError):
    pass


@dataclass(frozen=True)
class ServerGroupName:
    application: str
    stack: str = ""
    detail: str = ""
    # None for an app that spinui did not name (no -vNNN): shown, never touched.
    sequence: int | None = None

    @classmethod
    def parse(cls, name: str) -> ServerGroupName | None:
        versioned = VERSIONED.fullmatch(name)
        match = CLUSTER.fullmatch(versioned["cluster"]) if versioned else None
        if match is None:
            return None
        stack, detail = match["stack"] or "", match["detail"] or ""
        if match["stack"] == "" and not detail:
            return None  # "app-" or "app--v001"
        sequence = versioned["sequence"]
        sequence = int(sequence) if sequence is not None else None
        return cls(match["app"], stack, detail, sequence)

    @property
    def cluster(self) -> str:
        if self.detail:
            return f"{self.application}-{self.stack}-{self.detail}"
        if self.stack:
            return f"{self.application}-{self.stack}"
        return self.application

    @property
    def managed(self) -> bool:
        return self.sequence is not None

    def __str__(self) -> str:
        if self.sequence is None:
            return self.cluster
        return f"{self.cluster}-v{self.sequence:03d}"

    def with_sequence(self, sequence: int) -> ServerGroupName:
        if not 0 <= sequence < SEQUENCES:
            raise NamingError(f"a sequence is 0 to {SEQUENCES - 1}, not {sequence}")
        return ServerGroupName(self.application, self.stack, self.detail, sequence)


def cluster_name(application: str, stack: str = "", detail: str = "") -> str:
    """Checked the way DESIGN.md "Names" says."""
    if not re.fullmatch(r"[a-z0-9]+", application):
        raise NamingError(f"application {application!r}: lowercase letters and digits only")
    if stack and not re.fullmatch(r"[a-z0-9]+", stack):
        raise NamingError(f"stack {stack!r}: lowercase letters and digits only")
    if detail and not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", detail):
        raise NamingError(f"detail {detail!r}: lowercase letters, digits and single dashes")
    return ServerGroupName(application, stack, detail).cluster


@dataclass(frozen=True)
class MarathonAppId:
    """`/<account>/<group…>/<name>`: the account is always the root group."""

    account: str
    groups: tuple[str, ...]
    name: str

    @classmethod
    def parse(cls, app_id: str) -> MarathonAppId | None:
        segments = app_id.strip("/").split("/")
        if len(segments) < 2 or not all(SEGMENT.fullmatch(s) for s in segments):
            return None
        return cls(segments[0], tuple(segments[1:-1]), segments[-1])

    @classmethod
    def build(cls, account: str, region: str, name: str) -> MarathonAppId:
        _, groups = parse_region(region)
        for segment in (account, *groups, name):
            if not SEGMENT.fullmatch(segment):
                raise NamingError(f"{segment!r} cannot be a Marathon id segment")
        return cls(account, groups, name)

    def __str__(self) -> str:
        return "/" + "/".join((self.account, *self.groups, self.name))

    @property
    def group(self) -> str:
        """The Marathon group holding the app, e.g. /dev/web."""
        return "/" + "/".join((self.account, *self.groups))

    def region(self, cluster: str) -> str:
        return region_name(cluster, self.groups)


def region_name(cluster: str, groups: Iterable[str] = ()) -> str:
    """`_` is safe: Marathon ids cannot contain it."""
    return "_".join((cluster, *groups))


def parse_region(region: str) -> tuple[str, tuple[str, ...]]:
    """(DC/OS cluster, Marathon groups below the account) of a region name."""
    cluster, *groups = region.replace("/", "_").split("_")
    if not SEGMENT.fullmatch(cluster) or not all(SEGMENT.fullmatch(g) for g in groups):
        raise NamingError(f"{region!r} is not <cluster>[_<group>…]")
    return cluster, tuple(groups)


def next_sequence(existing: Iterable[tuple[ServerGroupName, datetime | None]]) -> int:
    """The sequence of the next server group of a cluster, given its server groups and when
    each last changed config: the first is 0; then the latest + 1 mod 1000, skipping taken."""
    versioned = [(name, at) for name, at in existing if name.sequence is not None]
    if not versioned:
        return 0
    taken = {name.sequence for name, _ in versioned}
    if len(taken) >= SEQUENCES:
        raise NamingError("all 1000 sequence numbers of the cluster are taken")
    floor = datetime.min.replace(tzinfo=None)
    latest, _ = max(
        versioned,
        key=lambda pair: (
            (pair[1].replace(tzinfo=None) if pair[1] else floor),
            pair[0].sequence,
        ),
    )
    candidate = (latest.sequence + 1) % SEQUENCES
    while candidate in taken:
        candidate = (candidate + 1) % SEQUENCES
    return candidate
