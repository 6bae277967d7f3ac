"""The OpenAPI 3.1 document of the JSON API, written by hand next to spinui/api.py.

tests/spinui/test_api_openapi.py checks that every route under /api/v1/ is described here,
with exactly its methods.
"""

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, **_json(_ref("Error"))}


UNAUTHORIZED = {
    "description": "No token, or a malformed, unknown or expired one, or an inactive user.",
    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    **_json(_ref("Error")),
}
BODY_ERRORS = {
    "400": _error(
        "The body is empty, not UTF-8, not JSON (the message gives line and column), or holds "
        "a number too large to store."
    ),
    "413": _error("The body is larger than the server's limit (SPINUI_MAX_BODY_BYTES)."),
    "415": _error("The body is not sent as application/json (UTF-8)."),
    "422": _error("Invalid values; each detail names a JSON pointer into the body."),
}
NAME_PARAMETER = {
    "name": "name",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[a-z0-9]+$"},
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message", "details"],
        "properties": {
            "error": {"type": "string", "description": "A short code, e.g. invalid."},
            "message": {"type": "string", "description": "What went wrong, in a sentence."},
            "details": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["path", "errors"],
                    "properties": {
                        "path": {
                            "type": "string",
                            "description": "JSON pointer into the request body; '' is all of it.",
                        },
                        "errors": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    },
    "Application": {
        "description": (
            "Gate's application: spinui's fields, and any further attributes (repoType, "
            "cloudProviders, …) alongside them, kept as given."
        ),
        "type": "object",
        "required": ["name", "email", "description", "createTs", "updateTs"],
        "properties": {
            "name": {
                "type": "string",
                "pattern": "^[a-z0-9]+$",
                "maxLength": 63,
                "description": "Lowercase letters and digits; cannot change once created.",
            },
            "email": {"type": "string", "format": "email", "description": "The owner's."},
            "description": {"type": "string"},
            "createTs": {
                "type": "string",
                "readOnly": True,
                "description": "Milliseconds since the epoch; ignored when sent.",
            },
            "updateTs": {
                "type": "string",
                "readOnly": True,
                "description": "Milliseconds since the epoch; ignored when sent.",
            },
        },
        "additionalProperties": True,
    },
    "ApplicationDetail": {
        "description": "Gate's single application: its name and the application as attributes.",
        "type": "object",
        "required": ["name", "attributes"],
        "properties": {"name": {"type": "string"}, "attributes": _ref("Application")},
    },
    "ApplicationCreate": {
        "type": "object",
        "required": ["name", "email"],
        "properties": {
            "name": {"type": "string", "pattern": "^[a-z0-9]+$", "maxLength": 63},
            "email": {"type": "string", "format": "email"},
            "description": {"type": "string"},
        },
        "additionalProperties": True,
        "description": "Further top-level members are kept as attributes; `attributes` is refused.",
    },
    "ApplicationPatch": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "If given, the application's own name."},
            "email": {"type": "string", "format": "email"},
            "description": {"type": "string"},
        },
        "additionalProperties": True,
        "description": (
            "Given fields replace; further members merge into the attributes, and a null "
            "removes that attribute."
        ),
    },
    "Credential": {
        "description": "An account (deployment target); no credentials are ever shown.",
        "type": "object",
        "required": ["name", "environment", "type", "regions"],
        "properties": {
            "name": {"type": "string"},
            "environment": {"type": "string"},
            "type": {"type": "string", "enum": ["dcos"]},
            "regions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "url"],
                    "properties": {
                        "name": {"type": "string"},
                        "url": {
                            "type": "string",
                            "format": "uri",
                            "description": "The DC/OS admin router, without user info or query.",
                        },
                    },
                },
            },
        },
    },
    "InstanceCounts": {
        "type": "object",
        "properties": {
            name: {"type": "integer"}
            for name in ("total", "up", "down", "starting", "unknown", "outOfService")
        },
    },
    "ServerGroup": {
        "description": (
            "Gate's server group: a Marathon app under /<account>/, as last read into the "
            "cache. createdTime is its last config change (milliseconds); disabled means "
            "scaled to zero; managed is false for apps spinui did not name (never touched)."
        ),
        "type": "object",
        "required": ["name", "account", "region", "cluster", "instanceCounts", "isDisabled"],
        "properties": {
            "name": {"type": "string"},
            "type": {"type": "string", "enum": ["dcos"]},
            "cloudProvider": {"type": "string", "enum": ["dcos"]},
            "account": {"type": "string"},
            "region": {"type": "string", "description": "<cluster>[_<group>…]"},
            "cluster": {"type": "string"},
            "application": {"type": "string"},
            "stack": {"type": "string"},
            "detail": {"type": "string"},
            "sequence": {"type": ["integer", "null"]},
            "managed": {"type": "boolean"},
            "marathonId": {"type": "string"},
            "createdTime": {"type": ["integer", "null"]},
            "isDisabled": {"type": "boolean"},
            "deploying": {"type": "boolean"},
            "deploymentIds": {"type": "array", "items": {"type": "string"}},
            "image": {"type": "string"},
            "capacity": {
                "type": "object",
                "properties": {k: {"type": "integer"} for k in ("min", "max", "desired")},
            },
            "instanceCounts": _ref("InstanceCounts"),
            "instances": {"type": "array", "items": {"type": "object"}},
        },
    },
    "ServerGroupDetail": {
        "description": (
            "A server group with its resources, its Marathon app definition (env values that "
            "look like credentials hidden), its instances and its last task failure."
        ),
        "allOf": [
            _ref("ServerGroup"),
            {
                "type": "object",
                "properties": {
                    "resources": {"type": "object"},
                    "version": {"type": "string"},
                    "lastTaskFailure": {"type": ["object", "null"]},
                    "definition": {"type": "object"},
                    "instances": {"type": "array", "items": _ref("Instance")},
                },
            },
        ],
    },
    "Instance": {
        "description": "Gate's instance: a Marathon task, as last read into the cache.",
        "type": "object",
        "required": ["name", "account", "region", "serverGroup", "healthState"],
        "properties": {
            "name": {"type": "string", "description": "The Marathon task id."},
            "id": {"type": "string"},
            "account": {"type": "string"},
            "region": {"type": "string"},
            "zone": {"type": "string", "description": "The DC/OS cluster."},
            "serverGroup": {"type": "string"},
            "cloudProvider": {"type": "string", "enum": ["dcos"]},
            "state": {"type": "string", "description": "Mesos task state, e.g. TASK_RUNNING."},
            "healthState": {
                "type": "string",
                "enum": ["Up", "Down", "Starting", "Unknown", "Succeeded", "Failed"],
            },
            "health": {"type": "array", "items": {"type": "object"}},
            "host": {"type": "string"},
            "ports": {"type": "array", "items": {"type": "integer"}},
            "ipAddresses": {"type": "array", "items": {"type": "string"}},
            "version": {"type": "string"},
            "launchTime": {"type": ["integer", "null"]},
            "stagedTime": {"type": ["integer", "null"]},
        },
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/applications": {
        "get": {
            "operationId": "listApplications",
            "summary": "The applications you may read.",
            "responses": {
                "200": {
                    "description": "Sorted by name.",
                    **_json({"type": "array", "items": _ref("Application")}),
                },
                "401": UNAUTHORIZED,
            },
        },
        "post": {
            "operationId": "createApplication",
            "summary": "Create an application; you get READ, WRITE and EXECUTE on it.",
            "description": "Needs the right to create applications (a role's), or superuser.",
            "requestBody": {"required": True, **_json(_ref("ApplicationCreate"))},
            "responses": {
                "201": {
                    "description": "Created; Location names the new application.",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                    **_json(_ref("ApplicationDetail")),
                },
                "401": UNAUTHORIZED,
                "403": _error("You may not create applications."),
                "409": _error("The name is taken."),
                **BODY_ERRORS,
            },
        },
    },
    "/api/v1/applications/{name}": {
        "parameters": [NAME_PARAMETER],
        "get": {
            "operationId": "getApplication",
            "summary": "One application (needs READ).",
            "responses": {
                "200": {"description": "The application.", **_json(_ref("ApplicationDetail"))},
                "401": UNAUTHORIZED,
                "404": _error("No such application, or you may not read it (the same answer)."),
            },
        },
        "patch": {
            "operationId": "updateApplication",
            "summary": "Change an application (needs WRITE); its name cannot change.",
            "requestBody": {"required": True, **_json(_ref("ApplicationPatch"))},
            "responses": {
                "200": {
                    "description": "The changed application.",
                    **_json(_ref("ApplicationDetail")),
                },
                "401": UNAUTHORIZED,
                "403": _error("You may read the application but not change it."),
                "404": _error("No such application, or you may not read it (the same answer)."),
                **BODY_ERRORS,
            },
        },
        "delete": {
            "operationId": "deleteApplication",
            "summary": "Delete an application (needs WRITE).",
            "responses": {
                "204": {"description": "Deleted."},
                "401": UNAUTHORIZED,
                "403": _error("You may read the application but not change it."),
                "404": _error("No such application, or you may not read it (the same answer)."),
                "409": _error("Still used; the details list what refers to it."),
            },
        },
    },
    "/api/v1/applications/{name}/clusters": {
        "parameters": [NAME_PARAMETER],
        "get": {
            "operationId": "listApplicationClusters",
            "summary": "The application's cluster names by account (needs READ).",
            "description": "From the infrastructure cache; accounts you may not read are left out.",
            "responses": {
                "200": {
                    "description": "Account name → cluster names, sorted.",
                    **_json(
                        {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        }
                    ),
                },
                "401": UNAUTHORIZED,
                "404": _error("No such application, or you may not read it (the same answer)."),
            },
        },
    },
    "/api/v1/applications/{name}/serverGroups": {
        "parameters": [NAME_PARAMETER],
        "get": {
            "operationId": "listApplicationServerGroups",
            "summary": "Every server group of the application (needs READ).",
            "description": "From the infrastructure cache, newest first within each cluster.",
            "responses": {
                "200": {
                    "description": "The server groups.",
                    **_json({"type": "array", "items": _ref("ServerGroup")}),
                },
                "401": UNAUTHORIZED,
                "404": _error("No such application, or you may not read it (the same answer)."),
            },
        },
    },
    "/api/v1/serverGroups/{account}/{region}/{name}": {
        "parameters": [
            {"name": "account", "in": "path", "required": True, "schema": {"type": "string"}},
            {
                "name": "region",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "<cluster>[_<group>…]",
            },
            {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
        ],
        "get": {
            "operationId": "getServerGroup",
            "summary": "One server group (needs READ on its account and application).",
            "responses": {
                "200": {"description": "The server group.", **_json(_ref("ServerGroupDetail"))},
                "401": UNAUTHORIZED,
                "404": _error("No such server group, or you may not read it (the same answer)."),
            },
        },
    },
    "/api/v1/instances/{account}/{region}/{instanceId}": {
        "parameters": [
            {"name": "account", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "region", "in": "path", "required": True, "schema": {"type": "string"}},
            {
                "name": "instanceId",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "The Marathon task id.",
            },
        ],
        "get": {
            "operationId": "getInstance",
            "summary": "One instance (needs READ on its account and application).",
            "responses": {
                "200": {"description": "The instance.", **_json(_ref("Instance"))},
                "401": UNAUTHORIZED,
                "404": _error("No such instance, or you may not read it (the same answer)."),
            },
        },
    },
    "/api/v1/credentials": {
        "get": {
            "operationId": "listCredentials",
            "summary": "The accounts you may read, with their regions (DC/OS clusters).",
            "responses": {
                "200": {
                    "description": "Sorted by name.",
                    **_json({"type": "array", "items": _ref("Credential")}),
                },
                "401": UNAUTHORIZED,
            },
        },
    },
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "getOpenApiDocument",
            "summary": "This document; no token needed.",
            "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1.", **_json({"type": "object"})}},
        },
    },
}


# Pipelines, executions and tasks (served by pipelines/api.py).


def _param(name: str, description: str, schema: dict | None = None) -> dict[str, Any]:
    schema = schema or {"type": "string"}
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def _operation(
    operation_id: str,
    summary: str,
    ok: tuple[str, str, dict | None],
    errors: dict[str, str],
    body: dict | None = None,
    query: list[dict] | None = None,
) -> dict[str, Any]:
    status, description, schema = ok
    responses: dict[str, Any] = {
        status: {"description": description, **(_json(schema) if schema else {})}
    }
    responses["401"] = UNAUTHORIZED
    responses |= {code: _error(text) for code, text in errors.items()}
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "responses": responses,
    }
    if body is not None:
        operation["requestBody"] = {"required": True, **_json(body)}
        responses |= BODY_ERRORS
    if query:
        operation["parameters"] = query
    return operation


UUID_SCHEMA = {"type": "string", "format": "uuid"}
EXECUTION_ID = _param("execution_id", "The execution's id.", UUID_SCHEMA)
STAGE_ID = _param("stage_id", "The stage's id.", UUID_SCHEMA)
APPLICATION = _param("application", "The application's name.")
HIDDEN = "No such application or execution, or you may not read it (the same answer)."
EXECUTION = {
    "type": "object",
    "description": "An execution in Orca's shape: id, status, "
    "trigger, stages[{id, refId, type, name, status, context, outputs, startTime, "
    "endTime, parentStageId, syntheticStageOwner, tasks}], times in epoch ms.",
}
PIPELINE_CONFIG = {"type": "object", "description": "A pipeline in Spinnaker's JSON format."}
REF = {"type": "object", "properties": {"ref": {"type": "string"}}}


def _control(operation_id: str, summary: str) -> dict[str, Any]:
    return {
        "parameters": [EXECUTION_ID],
        "put": _operation(
            operation_id,
            summary,
            ("200", "The execution.", EXECUTION),
            {
                "403": "You need EXECUTE.",
                "404": HIDDEN,
                "409": "Not possible in the execution's state.",
            },
        ),
    }


PATHS |= {
    "/api/v1/pipelines": {
        "post": _operation(
            "savePipeline",
            "Save a pipeline config (needs WRITE); every save is a revision.",
            ("200", "The saved config.", PIPELINE_CONFIG),
            {"403": "You need WRITE.", "404": HIDDEN},
            body=PIPELINE_CONFIG,
        ),
    },
    "/api/v1/applications/{application}/pipelineConfigs": {
        "parameters": [APPLICATION],
        "get": _operation(
            "listPipelineConfigs",
            "The application's pipeline configs.",
            ("200", "Sorted by name.", {"type": "array", "items": PIPELINE_CONFIG}),
            {"404": HIDDEN},
        ),
    },
    "/api/v1/pipelineConfigs/{pipeline_id}/history": {
        "parameters": [_param("pipeline_id", "The pipeline config's id.")],
        "get": _operation(
            "pipelineHistory",
            "Every revision of a pipeline config, newest first.",
            (
                "200",
                "Configs with revision, updateTs, lastModifiedBy.",
                {"type": "array", "items": PIPELINE_CONFIG},
            ),
            {"404": HIDDEN},
        ),
    },
    "/api/v1/applications/{application}/pipelines": {
        "parameters": [APPLICATION],
        "get": _operation(
            "listExecutions",
            "The application's pipeline executions, newest first.",
            ("200", "Executions.", {"type": "array", "items": EXECUTION}),
            {"400": "A bad limit or status.", "404": HIDDEN},
            query=[
                {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                {
                    "name": "statuses",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "Comma-separated Orca statuses.",
                },
            ],
        ),
    },
    "/api/v1/applications/{application}/tasks": {
        "parameters": [APPLICATION],
        "post": _operation(
            "startTask",
            "Run operations as an orchestration (needs WRITE).",
            ("202", "Started.", REF),
            {"403": "You need WRITE.", "404": HIDDEN},
            body={
                "type": "object",
                "properties": {
                    "application": {"type": "string"},
                    "description": {"type": "string"},
                    "job": {"type": "array", "items": {"type": "object"}},
                },
            },
        ),
    },
    "/api/v1/pipelines/{execution_id}": {
        "parameters": [EXECUTION_ID],
        "get": _operation(
            "getExecution", "One execution.", ("200", "The execution.", EXECUTION), {"404": HIDDEN}
        ),
    },
    "/api/v1/pipelines/{execution_id}/cancel": _control(
        "cancelExecution", "Cancel (?reason=…); running stages stop."
    ),
    "/api/v1/pipelines/{execution_id}/pause": _control("pauseExecution", "Pause."),
    "/api/v1/pipelines/{execution_id}/resume": _control("resumeExecution", "Resume."),
    "/api/v1/pipelines/{execution_id}/evaluateExpression": {
        "parameters": [EXECUTION_ID],
        "get": _operation(
            "evaluateExpression",
            "Evaluate ?expression=${…} against the stored execution.",
            (
                "200",
                "{expression, result} or {expression, detail: {message, column}}.",
                {"type": "object"},
            ),
            {"400": "No expression given.", "404": HIDDEN},
        ),
    },
    "/api/v1/pipelines/{execution_id}/stages/{stage_id}": {
        "parameters": [EXECUTION_ID, STAGE_ID],
        "patch": _operation(
            "updateStage",
            "Judge ({judgmentStatus, judgmentInput}), {manualSkip: true} or "
            "{skipRemainingWait: true}.",
            ("200", "The execution.", EXECUTION),
            {
                "403": "You need EXECUTE, or a role the judgment names.",
                "404": HIDDEN,
                "409": "The stage is not waiting for this.",
            },
            body={"type": "object"},
        ),
    },
    "/api/v1/pipelines/{execution_id}/stages/{stage_id}/restart": {
        "parameters": [EXECUTION_ID, STAGE_ID],
        "put": _operation(
            "restartStage",
            "Restart a finished stage and everything downstream.",
            ("200", "The execution.", EXECUTION),
            {
                "403": "You need EXECUTE.",
                "404": HIDDEN,
                "409": "The stage is running or synthetic.",
            },
        ),
    },
    "/api/v1/pipelines/{application}/{name}": {
        "parameters": [APPLICATION, _param("name", "The pipeline's name.")],
        "post": _operation(
            "runPipeline",
            "Run a pipeline (needs EXECUTE); the body is the trigger, with parameters.",
            ("202", "Started.", REF),
            {"403": "You need EXECUTE.", "404": HIDDEN, "409": "The pipeline is disabled."},
            body={"type": "object"},
        ),
        "delete": _operation(
            "deletePipeline",
            "Delete a pipeline config (needs WRITE).",
            ("204", "Deleted.", None),
            {"403": "You need WRITE.", "404": HIDDEN},
        ),
    },
    "/api/v1/tasks/{execution_id}": {
        "parameters": [EXECUTION_ID],
        "get": _operation(
            "getTask", "One orchestration.", ("200", "The execution.", EXECUTION), {"404": HIDDEN}
        ),
    },
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "spinui API",
            "version": "1",
            "description": (
                "Continuous delivery for DC/OS. Shapes follow Spinnaker Gate where Gate has "
                "one. Authenticate with `Authorization: Bearer <token>` "
                "(`python manage.py create_api_token USERNAME`). Other methods on these paths "
                "answer 405 with an Allow header; other paths, 404."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": PATHS,
    }
