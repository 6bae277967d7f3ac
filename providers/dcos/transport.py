"""HTTP to one DC/OS cluster: a Session per region, timeouts, retries, typed errors.

Every call has a connect and a read timeout. Idempotent calls are retried with backoff on
connection errors and 5xx; a name that does not resolve or a TLS failure is permanent.
Marathon's and the IAM's error bodies become exceptions carrying their message and details.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import requests
import urllib3

from providers.dcos.config import RegionConfig

if TYPE_CHECKING:
    from providers.dcos.auth import Auth

log = logging.getLogger(__name__)

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class DcosError(Exception):
    """Something a DC/OS cluster refused or a failure to reach it; `message` says which."""

    permanent = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        details: list[dict] | None = None,
        deployments: list[str] | None = None,
        url: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        # Marathon's 422/400 details: [{"path": "/id", "errors": ["..."]}]
        self.details = details or []
        # The deployment ids of a 409 "App is locked".
        self.deployments = deployments or []
        self.url = url


class Unreachable(DcosError):
    """No HTTP answer: refused, reset, no route, DNS, TLS or a timeout."""

    permanent = False


class NameNotResolved(Unreachable):
    permanent = True


class TlsFailed(Unreachable):
    permanent = True


class TimedOut(Unreachable):
    pass


class HttpError(DcosError):
    pass


class Unauthorized(HttpError):
    pass


class Forbidden(HttpError):
    pass


class NotFound(HttpError):
    pass


class Conflict(HttpError):
    pass


class Invalid(HttpError):
    pass


class ServerError(HttpError):
    permanent = False


def _error_class(status: int) -> type[HttpError]:
    if status == 401:
        return Unauthorized
    if status == 403:
        return Forbidden
    if status == 404:
        return NotFound
    if status == 409:
        return Conflict
    if status in (400, 422):
        return Invalid
    if status >= 500:
        return ServerError
    return HttpError


def error_from_response(response: requests.Response) -> HttpError:
    """Marathon's `{message, details, deployments}`, the IAM's `{title, description, code}`,
    or the admin router's HTML 401 page, as a typed exception."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    details: list[dict] = []
    deployments: list[str] = []
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message = body["message"]
        details = [d for d in body.get("details") or [] if isinstance(d, dict)]
        deployments = [
            d["id"] for d in body.get("deployments") or [] if isinstance(d, dict) and "id" in d
        ]
    elif isinstance(body, dict) and ("title" in body or "description" in body):
        message = ": ".join(str(body[k]) for k in ("title", "description") if body.get(k))
        if body.get("code"):
            message += f" ({body['code']})"
    elif status == 401:
        challenge = response.headers.get("WWW-Authenticate", "")
        message = "401 Unauthorized: the cluster refused the credentials" + (
            f" (it asks for {challenge})" if challenge else ""
        )
    else:
        text = " ".join(response.text.split())[:200]
        message = f"HTTP {status} {response.reason}" + (f": {text}" if text else "")
    if details:
        message += ": " + "; ".join(
            f"{d.get('path', '')} {', '.join(map(str, d.get('errors', [])))}".strip()
            for d in details
        )
    return _error_class(status)(
        message, status=status, details=details, deployments=deployments, url=response.url
    )


def _unreachable(error: requests.RequestException, url: str) -> Unreachable:
    """Say exactly what failed: DNS, TLS, a timeout or the connection."""
    host = urllib3.util.parse_url(url).host
    if isinstance(error, requests.exceptions.SSLError):
        reason = _innermost(error)
        return TlsFailed(f"TLS failed talking to {host}: {reason}", url=url)
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return TimedOut(f"Timed out connecting to {host}", url=url)
    if isinstance(error, requests.exceptions.Timeout):
        return TimedOut(f"Timed out waiting for {host} to answer", url=url)
    cause = error.args[0] if error.args else None
    reason = getattr(cause, "reason", cause)
    if isinstance(reason, urllib3.exceptions.NameResolutionError):
        return NameNotResolved(f"DNS: cannot resolve host {host}", url=url)
    return Unreachable(f"Cannot connect to {host}: {_innermost(error)}", url=url)


def _innermost(error: BaseException) -> str:
    """The most specific reason in a chain of wrapped exceptions."""
    seen = error
    while True:
        cause = getattr(seen, "reason", None) or (seen.args[0] if seen.args else None)
        if not isinstance(cause, BaseException) or cause is seen:
            break
        seen = cause
    text = str(seen)
    # urllib3 prefixes the connection object's repr; the reason after ": " is what helps.
    if "object at 0x" in text and ">: " in text:
        text = text.split(">: ", 1)[1]
    return text


class Transport:
    """One requests Session to one DC/OS cluster."""

    def __init__(
        self,
        config: RegionConfig,
        auth: Auth | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.auth = auth
        self.sleep = sleep
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        # Passed on every call: a session-level verify loses to REQUESTS_CA_BUNDLE.
        self.verify = self._verify()

    def _verify(self) -> bool | str:
        if self.config.skip_tls_verify:
            return False
        if not self.config.ca_certificate.strip():
            return True
        # requests wants a file: write the region's CA once for this session's life.
        fd, path = tempfile.mkstemp(prefix="spinui-ca-", suffix=".pem")
        with os.fdopen(fd, "w") as f:
            f.write(self.config.ca_certificate)
        weakref.finalize(self, _remove, path)
        return path

    def close(self) -> None:
        self.session.close()

    def url(self, path: str) -> str:
        return self.config.base_url + path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        read_timeout: float | None = None,
        authenticate: bool = True,
    ) -> requests.Response:
        """The response of a 2xx/3xx, or a DcosError. Retries only idempotent methods."""
        url = self.url(path)
        attempts = 1 + (self.config.retries if method in IDEMPOTENT else 0)
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            sent_headers = dict(headers or {})
            token_used = None
            if authenticate and self.auth is not None:
                token_used = self.auth.token(self)
                if token_used:
                    sent_headers["Authorization"] = f"token={token_used}"
            started = time.monotonic()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers=sent_headers,
                    stream=stream,
                    verify=self.verify,
                    timeout=(
                        self.config.connect_timeout,
                        self.config.read_timeout if read_timeout is None else read_timeout,
                    ),
                )
            except requests.RequestException as error:
                failure = _unreachable(error, url)
                log.info("%s %s failed: %s", method, path, failure.message)
                if failure.permanent or attempt >= attempts:
                    raise failure from None
                self.sleep(self.config.backoff * 2 ** (attempt - 1))
                continue
            log.debug(
                "%s %s -> %s in %.0f ms",
                method,
                path,
                response.status_code,
                (time.monotonic() - started) * 1000,
            )
            if response.status_code < 400:
                return response
            if response.status_code == 401 and token_used and not renewed and self.auth.renews:
                # An expired or revoked token: log in again, once.
                renewed = True
                self.auth.invalidate(token_used)
                response.close()
                attempt -= 1
                continue
            failure = error_from_response(response)
            response.close()
            if failure.permanent or attempt >= attempts:
                raise failure
            self.sleep(self.config.backoff * 2 ** (attempt - 1))

    def get_json(self, path: str, **kwargs) -> Any:
        response = self.request("GET", path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise HttpError(
                f"Expected JSON from {path}, got {response.headers.get('Content-Type', '?')}",
                status=response.status_code,
                url=response.url,
            ) from None

    def events(self, path: str, *, read_timeout: float | None = None) -> Iterator[tuple[str, str]]:
        """Server-sent events of PATH as (event, data) pairs, until the stream ends."""
        response = self.request(
            "GET",
            path,
            headers={"Accept": "text/event-stream"},
            stream=True,
            read_timeout=read_timeout,
        )
        with response:
            event, data = "message", []
            for raw in response.iter_lines(decode_unicode=True):
                line = raw if isinstance(raw, str) else raw.decode()
                if not line:
                    if data:
                        yield event, "\n".join(data)
                    event, data = "message", []
                elif line.startswith(":"):
                    continue
                else:
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "event":
                        event = value
                    elif name == "data":
                        data.append(value)


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
