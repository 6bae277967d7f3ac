"""The stage graph drawn on the server: columns by depth, parallel branches stacked, synthetic
stages listed inside their parent's box."""

from dataclasses import dataclass, field

from pipelines.models import Stage

BOX_WIDTH, BOX_HEIGHT, CHILD_HEIGHT = 160, 44, 18
COLUMN_GAP, ROW_GAP, MARGIN = 60, 22, 12


@dataclass
class Node:
    stage: Stage
    x: int = 0
    y: int = 0
    height: int = BOX_HEIGHT
    children: list[Stage] = field(default_factory=list)

    @property
    def middle(self) -> int:
        return self.y + BOX_HEIGHT // 2

    @property
    def child_rows(self) -> list[tuple[Stage, int]]:
        return [
            (child, self.y + BOX_HEIGHT + 12 + index * CHILD_HEIGHT)
            for index, child in enumerate(self.children)
        ]


@dataclass
class Graph:
    nodes: list[Node]
    edges: list[tuple[int, int, int, int]]
    width: int
    height: int


def _depths(top: list[Stage]) -> dict[str, int]:
    by_ref = {s.ref_id: s for s in top}
    depths: dict[str, int] = {}

    def depth(ref: str, seen: frozenset = frozenset()) -> int:
        if ref in depths:
            return depths[ref]
        requisites = [r for r in by_ref[ref].requisite_ref_ids if r in by_ref and r not in seen]
        depths[ref] = 1 + max((depth(r, seen | {ref}) for r in requisites), default=-1)
        return depths[ref]

    for stage in top:
        depth(stage.ref_id)
    return depths


def layout(stages: list[Stage]) -> Graph:
    top = [s for s in stages if s.parent_id is None]
    children: dict = {}
    for stage in stages:
        if stage.parent_id is not None:
            children.setdefault(stage.parent_id, []).append(stage)
    depths = _depths(top)
    columns: dict[int, list[Node]] = {}
    for stage in sorted(top, key=lambda s: (depths[s.ref_id], s.ref_id)):
        node = Node(stage, children=sorted(children.get(stage.id, []), key=lambda s: s.ref_id))
        node.height = BOX_HEIGHT + CHILD_HEIGHT * len(node.children)
        columns.setdefault(depths[stage.ref_id], []).append(node)
    nodes, height = [], 0
    for column, members in sorted(columns.items()):
        y = MARGIN
        for node in members:
            node.x = MARGIN + column * (BOX_WIDTH + COLUMN_GAP)
            node.y = y
            y += node.height + ROW_GAP
            nodes.append(node)
        height = max(height, y)
    by_ref = {node.stage.ref_id: node for node in nodes}
    edges = [
        (by_ref[r].x + BOX_WIDTH, by_ref[r].middle, node.x, node.middle)
        for node in nodes
        for r in node.stage.requisite_ref_ids
        if r in by_ref
    ]
    width = MARGIN * 2 + (max(columns, default=0) + 1) * (BOX_WIDTH + COLUMN_GAP) - COLUMN_GAP
    return Graph(nodes, edges, width, max(height, BOX_HEIGHT + 2 * MARGIN))
