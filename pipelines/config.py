"""Pipeline configs in Spinnaker's JSON format: validation with JSON-path errors, and the
parameters a run is started with."""

from typing import Any

from pipelines.stages import ConfigError, stage_type_for
from pipelines.stages.window import validate_window


class InvalidConfig(Exception):
    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))

    def details(self) -> list[dict[str, Any]]:
        """Marathon's and our API's shape: [{path, errors: [...]}]."""
        grouped: dict[str, list[str]] = {}
        for error in self.errors:
            grouped.setdefault(error.path, []).append(error.message)
        return [{"path": path, "errors": messages} for path, messages in grouped.items()]


def _ref(value: Any) -> str | None:
    """Spinnaker allows refIds as strings or numbers; we keep them as strings."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return None
    return str(value)


def validate_stage_common(stage: dict[str, Any], path: str) -> list[ConfigError]:
    errors = []
    if stage.get("restrictExecutionDuringTimeWindow"):
        errors += validate_window(
            stage.get("restrictedExecutionWindow") or {}, f"{path}/restrictedExecutionWindow"
        )
    timeout = stage.get("stageTimeoutMs")
    # An expression (a parameter, say) is only known when the stage starts.
    is_expression = isinstance(timeout, str) and "${" in timeout
    if (timeout is not None and not is_expression) and (
        isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0
    ):
        errors.append(ConfigError(f"{path}/stageTimeoutMs", "give a positive number of ms"))
    enabled = stage.get("stageEnabled")
    if enabled is not None and (
        not isinstance(enabled, dict)
        or enabled.get("type") != "expression"
        or not isinstance(enabled.get("expression"), str)
    ):
        errors.append(
            ConfigError(f"{path}/stageEnabled", 'give {"type": "expression", "expression": …}')
        )
    return errors


def validate_stages(stages: Any, path: str = "/stages") -> tuple[list[ConfigError], list[str]]:
    """Errors, and the unknown stage types (kept, reported, refused only at run time)."""
    if not isinstance(stages, list):
        return [ConfigError(path, "give a list of stages")], []
    errors: list[ConfigError] = []
    unknown: list[str] = []
    refs: dict[str, int] = {}
    for index, stage in enumerate(stages):
        where = f"{path}/{index}"
        if not isinstance(stage, dict):
            errors.append(ConfigError(where, "a stage is a JSON object"))
            continue
        ref = _ref(stage.get("refId"))
        if ref is None:
            errors.append(ConfigError(f"{where}/refId", "every stage needs a refId"))
        elif ref in refs:
            errors.append(ConfigError(f"{where}/refId", f"{ref!r} is also stage {refs[ref]}'s"))
        else:
            refs[ref] = index
        kind = stage.get("type")
        if not isinstance(kind, str) or not kind:
            errors.append(ConfigError(f"{where}/type", "every stage needs a type"))
            continue
        stage_type = stage_type_for(kind)
        if stage_type is None:
            unknown.append(kind)
        else:
            errors += stage_type.validate(stage, where)
        errors += validate_stage_common(stage, where)
    for index, stage in enumerate(stages):
        if not isinstance(stage, dict):
            continue
        requisites = stage.get("requisiteStageRefIds") or []
        if not isinstance(requisites, list):
            errors.append(ConfigError(f"{path}/{index}/requisiteStageRefIds", "give a list"))
            continue
        for position, requisite in enumerate(requisites):
            if _ref(requisite) not in refs:
                errors.append(
                    ConfigError(
                        f"{path}/{index}/requisiteStageRefIds/{position}",
                        f"no stage has refId {requisite!r}",
                    )
                )
    if not errors:
        errors += _cycles(stages, path)
    return errors, unknown


def _cycles(stages: list[dict[str, Any]], path: str) -> list[ConfigError]:
    edges = {
        _ref(s["refId"]): [_ref(r) for r in s.get("requisiteStageRefIds") or []] for s in stages
    }
    index = {_ref(s["refId"]): i for i, s in enumerate(stages)}
    state: dict[str, str] = {}

    def visit(ref: str, trail: list[str]) -> list[str] | None:
        if state.get(ref) == "done":
            return None
        if state.get(ref) == "open":
            return trail[trail.index(ref) :] + [ref]
        state[ref] = "open"
        for requisite in edges[ref]:
            cycle = visit(requisite, [*trail, ref])
            if cycle:
                return cycle
        state[ref] = "done"
        return None

    for ref in edges:
        cycle = visit(ref, [])
        if cycle:
            return [
                ConfigError(
                    f"{path}/{index[cycle[0]]}/requisiteStageRefIds",
                    f"stages depend on each other in a cycle: {' → '.join(cycle)}",
                )
            ]
    return []


def validate_parameter_config(parameters: Any, path: str = "/parameterConfig") -> list[ConfigError]:
    if parameters is None:
        return []
    if not isinstance(parameters, list):
        return [ConfigError(path, "give a list of parameters")]
    errors, seen = [], set()
    for index, parameter in enumerate(parameters):
        where = f"{path}/{index}"
        name = parameter.get("name") if isinstance(parameter, dict) else None
        if not isinstance(name, str) or not name:
            errors.append(ConfigError(f"{where}/name", "every parameter needs a name"))
            continue
        if name in seen:
            errors.append(ConfigError(f"{where}/name", f"{name!r} is declared twice"))
        seen.add(name)
        if parameter.get("hasOptions"):
            options = parameter.get("options")
            if not isinstance(options, list) or not all(
                isinstance(o, dict) and "value" in o for o in options
            ):
                errors.append(ConfigError(f"{where}/options", "give a list of {value}"))
    return errors


def validate_pipeline(config: Any, application: str) -> tuple[list[ConfigError], list[str]]:
    if not isinstance(config, dict):
        return [ConfigError("", "a pipeline is a JSON object")], []
    errors = []
    name = config.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(ConfigError("/name", "give the pipeline a name"))
    if config.get("application", application) != application:
        errors.append(ConfigError("/application", f"this pipeline belongs to {application!r}"))
    stage_errors, unknown = validate_stages(config.get("stages", []))
    errors += stage_errors
    errors += validate_parameter_config(config.get("parameterConfig"))
    if not isinstance(config.get("triggers", []), list):
        errors.append(ConfigError("/triggers", "give a list of triggers"))
    limit = config.get("maxConcurrentExecutions", 0)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        errors.append(ConfigError("/maxConcurrentExecutions", "give a whole number, 0 or more"))
    return errors, unknown


def resolve_parameters(config: dict[str, Any], given: Any) -> dict[str, Any]:
    """The trigger's parameters: defaults filled in, required ones present, options kept."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise InvalidConfig([ConfigError("/parameters", "give an object of name: value")])
    resolved = dict(given)
    errors = []
    for parameter in config.get("parameterConfig") or []:
        name = parameter["name"]
        value = resolved.get(name)
        if value in (None, "") and parameter.get("default") not in (None, ""):
            value = resolved[name] = parameter["default"]
        if value in (None, ""):
            if parameter.get("required"):
                errors.append(ConfigError(f"/parameters/{name}", "is required"))
            resolved.setdefault(name, value)
            continue
        options = [str(o["value"]) for o in parameter.get("options") or []]
        if parameter.get("hasOptions") and options and str(value) not in options:
            errors.append(
                ConfigError(f"/parameters/{name}", f"must be one of {', '.join(options)}")
            )
    if errors:
        raise InvalidConfig(errors)
    return resolved
