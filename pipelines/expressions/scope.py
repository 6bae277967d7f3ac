"""``#root`` for a stage, built the way Orca's ContextParameterProcessor builds it."""

from .functions import deployed_server_groups_of

EVALUATE_VARIABLES = "evaluateVariables"


def stage_scope(stage: dict, execution: dict) -> dict:
    """The root object expressions in ``stage``'s config see when the stage starts.

    The stage's context, where a name the context lacks falls back to the outputs of the
    stages upstream of it (nearest first), augmented with ``execution``, ``trigger``,
    ``parameters`` (the trigger's), ``scmInfo`` and ``deployedServerGroups``. Variables set by
    upstream Evaluate Variables stages win over context keys of the same name.
    """
    upstream = _upstream(stage, execution)
    root: dict = {}
    for ancestor in reversed(upstream):
        if ancestor.get("type") != EVALUATE_VARIABLES:
            root.update(_outputs(ancestor))
    root.update(stage.get("context") or {})
    for ancestor in reversed(upstream):
        if ancestor.get("type") == EVALUATE_VARIABLES:
            root.update(_outputs(ancestor))
    trigger = execution.get("trigger") or {}
    root["execution"] = execution
    root["trigger"] = trigger
    root["parameters"] = trigger.get("parameters") or {}
    root["scmInfo"] = scm_info(trigger)
    root["deployedServerGroups"] = deployed_server_groups_of(execution, [])
    return root


def _outputs(stage: dict) -> dict:
    outputs = stage.get("outputs")
    return outputs if type(outputs) is dict else {}


def _upstream(stage: dict, execution: dict) -> list[dict]:
    """Stages this one waits for, directly or not, nearest first (and a synthetic's parent)."""
    stages = [s for s in execution.get("stages") or [] if type(s) is dict]
    by_ref = {str(s.get("refId")): s for s in stages if s.get("refId") is not None}
    by_id = {s.get("id"): s for s in stages if s.get("id") is not None}
    found: list[dict] = []
    seen = {id(stage)}
    frontier = [stage]
    while frontier:
        following = []
        for current in frontier:
            parents = [by_ref.get(str(ref)) for ref in current.get("requisiteStageRefIds") or []]
            parents.append(by_id.get(current.get("parentStageId")))
            for parent in parents:
                if parent is not None and id(parent) not in seen:
                    seen.add(id(parent))
                    found.append(parent)
                    following.append(parent)
        frontier = following
    return found


def scm_info(trigger: dict) -> dict | None:
    """The trigger's first SCM entry on a branch other than master or develop, else the first."""
    build_info = trigger.get("buildInfo")
    scm = build_info.get("scm") if type(build_info) is dict else None
    if type(scm) is not list or not scm:
        return None
    for entry in scm:
        if type(entry) is dict and entry.get("branch") not in ("master", "develop"):
            return entry
    return scm[0]
