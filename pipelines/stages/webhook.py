"""Webhook (Orca's WebhookStage): call a URL, then optionally poll a status URL until a
JSON path in its answer says the work succeeded, was canceled or failed. Only hosts on the
expression URL allow-list may be called, checked after resolution and on every redirect."""

import json
import re
from typing import Any

from pipelines.expressions import ExpressionError, Limits, UrlPolicy
from pipelines.expressions.fetch import send_request
from pipelines.stages import ConfigError, Field, Outcome, StageRun, StageType, register
from pipelines.status import Status

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
RESOLUTIONS = ("getMethod", "locationHeader", "webhookResponse")
POLL_SECONDS = 10.0
RETRY_SECONDS = 15.0


def json_path(document: Any, path: str) -> Any:
    """A value at a simple JsonPath ($.a.b[0].c); None where it leads nowhere."""
    current = document
    for name, index in re.findall(r"\.?([^.\[\]]+)|\[(\d+)\]", path.removeprefix("$")):
        if index and isinstance(current, list) and int(index) < len(current):
            current = current[int(index)]
        elif name and isinstance(current, dict):
            current = current.get(name)
        else:
            return None
    return current


def _statuses(value: Any) -> set[str]:
    """Deck stores the status lists as comma-separated text."""
    if isinstance(value, list):
        return {str(v).strip().upper() for v in value}
    return {part.strip().upper() for part in str(value or "").split(",") if part.strip()}


def _codes(value: Any) -> set[int]:
    return {int(code) for code in _statuses(value) if code.isdigit()}


@register
class Webhook(StageType):
    type = "webhook"
    label = "Webhook"
    description = "Calls a URL; can wait for the work it started by polling a status URL."
    fields = (
        Field("url", "URL", required=True),
        Field("method", "Method", "choice", choices=METHODS),
        Field("customHeaders", "Headers", "json"),
        Field("payload", "Payload", "json"),
        Field("waitForCompletion", "Wait for completion", "boolean"),
        Field("statusUrlResolution", "Status URL from", "choice", choices=RESOLUTIONS),
        Field("statusUrlJsonPath", "Status URL JSON path"),
        Field("statusJsonPath", "Status JSON path"),
        Field("successStatuses", "Success statuses"),
        Field("canceledStatuses", "Canceled statuses"),
        Field("terminalStatuses", "Terminal statuses"),
    )

    def validate(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        errors = []
        if not isinstance(config.get("url"), str) or not config["url"]:
            errors.append(ConfigError(f"{path}/url", "give the URL to call"))
        if str(config.get("method", "POST")).upper() not in METHODS:
            errors.append(ConfigError(f"{path}/method", f"use one of {', '.join(METHODS)}"))
        if not isinstance(config.get("customHeaders", {}), dict):
            errors.append(ConfigError(f"{path}/customHeaders", "give an object of name: value"))
        if config.get("waitForCompletion"):
            resolution = config.get("statusUrlResolution", "getMethod")
            if resolution not in RESOLUTIONS:
                errors.append(
                    ConfigError(
                        f"{path}/statusUrlResolution", f"use one of {', '.join(RESOLUTIONS)}"
                    )
                )
            if not config.get("statusJsonPath"):
                errors.append(
                    ConfigError(f"{path}/statusJsonPath", "say where the status is, e.g. $.status")
                )
        return errors

    def run(self, run: StageRun) -> Outcome:
        context = run.context
        try:
            if "webhook" not in context:
                return self._call(run)
            return self._monitor(run)
        except ExpressionError as error:
            return Outcome(Status.TERMINAL, error=error.message)

    def _call(self, run: StageRun) -> Outcome:
        context = run.context
        method = str(context.get("method", "POST")).upper()
        headers = {str(k): str(v) for k, v in (context.get("customHeaders") or {}).items()}
        # Receivers can tell a retried call (after a lost worker) from a new one.
        headers["X-Spinui-Operation"] = run.stage_id
        body = None
        if "payload" in context and method not in ("GET", "HEAD"):
            body = json.dumps(context["payload"]).encode()
            headers.setdefault("Content-Type", "application/json")
        reply = send_request(
            method, context["url"], UrlPolicy.from_settings(), Limits(), headers=headers, body=body
        )
        answer = _parsed(reply.text)
        webhook = {"statusCode": reply.status, "body": answer}
        if reply.status in _codes(context.get("retryStatusCodes")) or reply.status >= 500:
            attempts = int(context.get("webhookRetries", 0)) + 1
            if attempts <= int(context.get("maxRetries", 3)):
                return Outcome(
                    Status.RUNNING, context={"webhookRetries": attempts}, delay=RETRY_SECONDS
                )
        if reply.status >= 400:
            return Outcome(
                Status.TERMINAL,
                context={"webhook": webhook},
                error=f"{method} {context['url']} answered HTTP {reply.status}",
            )
        if not context.get("waitForCompletion"):
            return Outcome(
                Status.SUCCEEDED, context={"webhook": webhook}, outputs={"webhook": webhook}
            )
        resolution = context.get("statusUrlResolution", "getMethod")
        status_url = {
            "getMethod": context["url"],
            "locationHeader": reply.headers.get("Location"),
            "webhookResponse": json_path(answer, str(context.get("statusUrlJsonPath", ""))),
        }[resolution]
        if not isinstance(status_url, str) or not status_url:
            return Outcome(
                Status.TERMINAL,
                context={"webhook": webhook},
                error=f"no status URL found by {resolution}",
            )
        webhook["statusEndpoint"] = status_url
        return Outcome(
            Status.RUNNING,
            context={"webhook": webhook},
            delay=float(context.get("waitBeforeMonitor", 0) or POLL_SECONDS),
        )

    def _monitor(self, run: StageRun) -> Outcome:
        context = run.context
        webhook = dict(context["webhook"])
        reply = send_request("GET", webhook["statusEndpoint"], UrlPolicy.from_settings(), Limits())
        answer = _parsed(reply.text)
        status = str(json_path(answer, str(context["statusJsonPath"]))).upper()
        webhook["monitor"] = {"statusCode": reply.status, "body": answer, "status": status}
        recorded = {"webhook": webhook}
        if status in _statuses(context.get("successStatuses")):
            return Outcome(Status.SUCCEEDED, context=recorded, outputs={"webhook": webhook})
        if status in _statuses(context.get("canceledStatuses")):
            return Outcome(Status.CANCELED, context=recorded)
        if status in _statuses(context.get("terminalStatuses")):
            return Outcome(Status.TERMINAL, context=recorded, error=f"the status URL says {status}")
        return Outcome(
            Status.RUNNING, context=recorded, delay=float(context.get("pollInterval", POLL_SECONDS))
        )


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
