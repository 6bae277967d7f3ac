"""The ``#helper(...)`` functions, with Spinnaker's names and meaning (kork and orca).

Functions that need the execution read ``execution`` from ``#root``, as Orca's rewrite to
``#stage(#root.execution, …)`` does; stages are the plain dicts the engine passes
(``name``, ``id``, ``refId``, ``type``, ``status``, ``context``, ``outputs``).
"""

import base64
import binascii
import json
import re

import yaml

from .errors import ExpressionError, LimitExceeded
from .fetch import UrlPolicy, fetch_text
from .values import a_type, java_float, java_str

DEPLOY_STAGE_TYPES = ("deploy", "createServerGroup", "cloneServerGroup", "rollingPush")


def _text(function: str, value, column) -> str:
    if type(value) is str:
        return value
    if type(value) in (int, float, bool):
        # Spring converts numbers and booleans to the String parameter these functions take.
        return java_str(value)
    raise ExpressionError(f"#{function}() needs text, not {a_type(value)}", column)


def _execution(ev, args: list, column) -> tuple[dict, list]:
    """The execution and the remaining arguments; an explicit #root.execution is accepted."""
    if args and type(args[0]) is dict and "stages" in args[0]:
        return args[0], args[1:]
    execution = ev.root.get("execution") if type(ev.root) is dict else None
    if type(execution) is not dict:
        raise ExpressionError(
            "this function needs the execution, and #root has no 'execution'", column
        )
    return execution, args


def _stages(execution: dict) -> list[dict]:
    stages = execution.get("stages")
    return [stage for stage in stages if type(stage) is dict] if type(stages) is list else []


def _one_name(function: str, args: list, column) -> str | None:
    if len(args) != 1:
        raise ExpressionError(
            f"#{function}() takes one stage name, not {len(args)} arguments", column
        )
    return None if args[0] is None else _text(function, args[0], column)


def stage(ev, args, column):
    execution, rest = _execution(ev, args, column)
    name = _one_name("stage", rest, column)
    for candidate in _stages(execution):
        if name is not None and name in (candidate.get("name"), candidate.get("id")):
            return candidate
    raise ExpressionError(
        f"Unable to locate [{name}] using #stage({name}) in execution {execution.get('id')}",
        column,
    )


def stage_by_ref_id(ev, args, column):
    execution, rest = _execution(ev, args, column)
    ref_id = _one_name("stageByRefId", rest, column)
    if ref_id is None:
        raise ExpressionError("Stage refId must not be null in #stageByRefId", column)
    for candidate in _stages(execution):
        if java_str(candidate.get("refId")) == ref_id:
            return candidate
    raise ExpressionError(
        f"Unable to locate [{ref_id}] using #stageByRefId({ref_id}) in execution "
        f"{execution.get('id')}",
        column,
    )


def stage_exists(ev, args, column):
    execution, rest = _execution(ev, args, column)
    name = _one_name("stageExists", rest, column)
    return name is not None and any(
        name in (candidate.get("name"), candidate.get("id")) for candidate in _stages(execution)
    )


def current_stage(ev, args, column):
    execution, rest = _execution(ev, args, column)
    if rest:
        raise ExpressionError("#currentStage() takes no arguments", column)
    stage_id = ev.environment.current_stage_id
    if stage_id is None:
        raise ExpressionError("#currentStage() needs a running stage; there is none here", column)
    for candidate in _stages(execution):
        if java_str(candidate.get("id")).lower() == stage_id.lower():
            return candidate
    raise ExpressionError(f"No stage found with id '{stage_id}'", column)


def judgment(ev, args, column):
    execution, rest = _execution(ev, args, column)
    name = _one_name("judgment", rest, column)
    for candidate in _stages(execution):
        context = candidate.get("context")
        if (
            name is not None
            and candidate.get("name") == name
            and candidate.get("type") == "manualJudgment"
            and type(context) is dict
            and context.get("judgmentInput") is not None
        ):
            return context["judgmentInput"]
    raise ExpressionError(
        f"Unable to locate manual Judgment stage [{name}] using #judgment({name}) in execution "
        f"{execution.get('id')}. Stage doesn't exist or doesn't contain judgmentInput in its "
        "context",
        column,
    )


def deployed_server_groups_of(execution: dict, names: list[str]) -> list[dict]:
    """What Orca's #deployedServerGroups gives: one entry per succeeded deploy stage."""
    found = []
    for candidate in _stages(execution):
        context = candidate.get("context")
        if (
            candidate.get("type") not in DEPLOY_STAGE_TYPES
            or type(context) is not dict
            or type(context.get("deploy.server.groups")) is not dict
            or candidate.get("status") != "SUCCEEDED"
            or (names and not {candidate.get("name"), candidate.get("id")} & set(names))
        ):
            continue
        if context.get("region") is None and type(context.get("clusters")) is list:
            # A deploy stage of several clusters: one entry per server group it deployed.
            found += [
                {"parentStage": context.get("parentStage"), **details, "deployments": []}
                for details in context.get("deploymentDetails") or []
                if type(details) is dict and details.get("serverGroup")
            ]
            continue
        region = context.get("region")
        zones = context.get("availabilityZones")
        if region is None and type(zones) is dict and zones:
            region = next(iter(zones))
        if region is None:
            continue
        details = {
            "account": context.get("account"),
            "capacity": context.get("capacity"),
            "parentStage": context.get("parentStage"),
            "region": region,
        }
        for existing in context.get("deploymentDetails") or []:
            if type(existing) is dict and existing.get("region") == region:
                details.update(existing)
        server_groups = context["deploy.server.groups"].get(region)
        if type(server_groups) is list and server_groups:
            details["serverGroup"] = server_groups[0]
        deployments = []
        for task in context.get("kato.tasks") or []:
            for result in (task.get("resultObjects") or []) if type(task) is dict else []:
                if type(result) is dict:
                    deployments.extend(result.get("deployments") or [])
        details["deployments"] = deployments
        found.append(details)
    return found


def deployed_server_groups(ev, args, column):
    execution, rest = _execution(ev, args, column)
    names = [_text("deployedServerGroups", name, column) for name in rest]
    return deployed_server_groups_of(execution, names)


def current_user(ev, args, column):
    if ev.environment.user:
        return ev.environment.user
    execution = ev.root.get("execution") if type(ev.root) is dict else None
    authentication = execution.get("authentication") if type(execution) is dict else None
    user = authentication.get("user") if type(authentication) is dict else None
    return user if type(user) is str and user else "anonymous"


def pipeline_id(ev, args, column):
    name = _text("pipelineId", args[0], column)
    lookup = ev.environment.pipeline_id_lookup
    if lookup is None:
        raise ExpressionError(
            "#pipelineId() needs the pipeline store; it is not available here", column
        )
    execution = ev.root.get("execution") if type(ev.root) is dict else None
    application = execution.get("application") if type(execution) is dict else None
    found = lookup(application, name)
    if found is None:
        raise ExpressionError(f"no pipeline named {name!r} in application {application!r}", column)
    return found


def to_json(ev, args, column):
    ev.check_size(args[0], column)
    try:
        text = json.dumps(args[0], separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise ExpressionError(
            "#toJson() failed: the value cannot be written as JSON", column
        ) from None
    if "${" in text:
        # As kork does: JSON holding ${ could be evaluated again wherever it lands.
        raise ExpressionError("#toJson() failed: the result cannot contain an expression", column)
    return text


def _parsed(ev, value, column):
    ev.check_size(value, column)
    ev.check_depth(value, column)
    return value


def read_json(ev, args, column):
    text = _text("readJson", args[0], column)
    ev.check_length(len(text), column)
    try:
        value = json.loads(text)
    except RecursionError:
        raise LimitExceeded("#readJson() failed: the JSON nests too deeply", column) from None
    except ValueError:
        raise ExpressionError(f"#readJson({text[:60]}) failed: not valid JSON", column) from None
    expected = list if text.lstrip().startswith("[") else dict
    if type(value) is not expected:
        raise ExpressionError(
            f"#readJson({text[:60]}) failed: expected a JSON object or array", column
        )
    return _parsed(ev, value, column)


class _PlainLoader(yaml.SafeLoader):
    """Safe YAML; timestamps stay text, since the result must be plain JSON-like data."""


_PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load_yaml(function: str, text: str, ev, column, every: bool = False):
    ev.check_length(len(text), column)
    try:
        if every:
            value = list(yaml.load_all(text, Loader=_PlainLoader))  # noqa: S506 - a SafeLoader
        else:
            value = yaml.load(text, Loader=_PlainLoader)  # noqa: S506 - a SafeLoader
    except (yaml.YAMLError, RecursionError):
        raise ExpressionError(f"#{function}({text[:60]}) failed: not valid YAML", column) from None
    value = _parsed(ev, value, column)
    try:
        # Round-trip through JSON so binary, sets or odd keys cannot leave this function.
        return json.loads(json.dumps(value))
    except (TypeError, ValueError, RecursionError):
        raise ExpressionError(
            f"#{function}() failed: the YAML holds values other than maps, lists, text, "
            "numbers, booleans and null",
            column,
        ) from None


def read_yaml(ev, args, column):
    return _load_yaml("readYaml", _text("readYaml", args[0], column), ev, column)


def read_all_yaml(ev, args, column):
    return _load_yaml("readAllYaml", _text("readAllYaml", args[0], column), ev, column, every=True)


def to_int(ev, args, column):
    value = args[0]
    if type(value) is int:
        return value
    text = _text("toInt", value, column)
    if not re.fullmatch(r"[+-]?\d{1,19}", text):
        raise ExpressionError(f"#toInt({text[:40]}) failed: not a whole number", column)
    number = int(text)
    if not -(2**31) <= number < 2**31:
        raise ExpressionError(f"#toInt({text[:40]}) failed: out of range", column)
    return number


def to_float(ev, args, column):
    value = args[0]
    if type(value) in (int, float):
        return float(value)
    text = _text("toFloat", value, column).strip()
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?", text):
        raise ExpressionError(f"#toFloat({text[:40]}) failed: not a number", column)
    return java_float(float(text.rstrip("fFdD")), column)


def to_boolean(ev, args, column):
    value = args[0]
    if type(value) is bool:
        return value
    return value is not None and _text("toBoolean", value, column).lower() == "true"


def to_base64(ev, args, column):
    text = _text("toBase64", args[0], column)
    ev.check_length(len(text) * 2, column)
    return base64.b64encode(text.encode()).decode()


def from_base64(ev, args, column):
    text = _text("fromBase64", args[0], column)
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        raise ExpressionError(
            f"#fromBase64({text[:40]}) failed: not valid base64", column
        ) from None


def alphanumerical(ev, args, column):
    return re.sub(r"[^A-Za-z0-9]", "", _text("alphanumerical", args[0], column))


def do_not_eval(ev, args, column):
    # The text comes back as written; ${...} inside it is not evaluated.
    return args[0]


def _policy(ev) -> UrlPolicy:
    return ev.environment.url_policy or UrlPolicy.from_settings()


def _fetch(function: str, ev, args, column) -> str:
    url = _text(function, args[0], column)
    try:
        text = fetch_text(url, _policy(ev), ev.limits)
    except ExpressionError as error:
        raise ExpressionError(f"#{function}({url[:80]}) failed: {error.message}", column) from None
    ev.check_length(len(text), column)
    return text


def from_url(ev, args, column):
    return _fetch("fromUrl", ev, args, column)


def json_from_url(ev, args, column):
    return read_json(ev, [_fetch("jsonFromUrl", ev, args, column)], column)


def yaml_from_url(ev, args, column):
    return _load_yaml("yamlFromUrl", _fetch("yamlFromUrl", ev, args, column), ev, column)


def properties_from_url(ev, args, column):
    return read_properties(_fetch("propertiesFromUrl", ev, args, column))


_PROPERTY_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def read_properties(text: str) -> dict:
    """A Java .properties file as a map: comments, continuations, '=', ':' or space."""
    properties: dict[str, str] = {}
    logical = ""
    for raw in text.splitlines():
        line = raw.lstrip() if not logical else raw.lstrip()
        if not logical and (not line or line[0] in "#!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:
            logical += line[:-1]
            continue
        logical += line
        key, value = _split_property(logical)
        properties[key] = value
        logical = ""
    if logical:
        key, value = _split_property(logical)
        properties[key] = value
    return properties


def _split_property(line: str) -> tuple[str, str]:
    match = re.match(r"((?:\\.|[^=:\s\\])*)\s*[=:\s]?\s*(.*)", line, re.DOTALL)
    key, value = match.groups() if match else (line, "")
    return _unescape(key), _unescape(value)


def _unescape(text: str) -> str:
    def replace(match: re.Match) -> str:
        escaped = match.group(1)
        if escaped.startswith("u") and len(escaped) == 5:
            return chr(int(escaped[1:], 16))
        return _PROPERTY_ESCAPES.get(escaped, escaped)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", replace, text)


# name -> (fewest arguments, most arguments, implementation); arguments exclude the execution.
FUNCTIONS = {
    "stage": (1, 2, stage),
    "stageByRefId": (1, 2, stage_by_ref_id),
    "stageExists": (1, 2, stage_exists),
    "currentStage": (0, 1, current_stage),
    "judgment": (1, 2, judgment),
    "judgement": (1, 2, judgment),
    "deployedServerGroups": (0, 32, deployed_server_groups),
    "currentUser": (0, 0, current_user),
    "pipelineId": (1, 1, pipeline_id),
    "toJson": (1, 1, to_json),
    "readJson": (1, 1, read_json),
    "readYaml": (1, 1, read_yaml),
    "readAllYaml": (1, 1, read_all_yaml),
    "toInt": (1, 1, to_int),
    "toFloat": (1, 1, to_float),
    "toBoolean": (1, 1, to_boolean),
    "toBase64": (1, 1, to_base64),
    "fromBase64": (1, 1, from_base64),
    "alphanumerical": (1, 1, alphanumerical),
    "doNotEval": (1, 1, do_not_eval),
    "fromUrl": (1, 1, from_url),
    "jsonFromUrl": (1, 1, json_from_url),
    "yamlFromUrl": (1, 1, yaml_from_url),
    "propertiesFromUrl": (1, 1, properties_from_url),
}


def call_function(name: str, args: list, ev, column):
    entry = FUNCTIONS.get(name)
    if entry is None:
        raise ExpressionError(
            f"unknown function #{name}; available: {', '.join('#' + n for n in sorted(FUNCTIONS))}",
            column,
        )
    low, high, implementation = entry
    if not low <= len(args) <= high:
        raise ExpressionError(
            f"#{name}() takes {low if low == high else f'{low} to {high}'} arguments, "
            f"not {len(args)}",
            column,
        )
    return implementation(ev, args, column)
