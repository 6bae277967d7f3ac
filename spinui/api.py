"""The JSON API under /api/v1/: bearer tokens, Spinnaker Gate's shapes, JSON errors.

Every view is a plain function under @api_view, which owns the method check, token
authentication and the mapping of errors to `{"error", "message", "details"}` bodies.
"""

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    PermissionDenied,
    RequestDataTooBig,
    ValidationError,
)
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from spinui.models import Account, ApiToken, Application, Region
from spinui.openapi import openapi_document
from spinui.permissions import READ, WRITE, get_application_for, visible
from spinui.services import (
    InUse,
    application_create,
    application_delete,
    application_update,
)
from spinui.traffic_guards import guard_errors


class ApiRequest(HttpRequest):
    user: AbstractBaseUser


Details = list[dict[str, Any]]


class ApiError(Exception):
    """An error a client caused, answered as a JSON error body."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        details: Details | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        return error_response(self.status, self.error, self.message, self.details, self.headers)


def error_response(
    status: int,
    error: str,
    message: str,
    details: Details | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    body = {"error": error, "message": message, "details": details or []}
    return JsonResponse(body, status=status, headers=headers)


def pointer(*parts: str | int) -> str:
    """The RFC 6901 JSON pointer to a place in the request body; "" is the whole body."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _invalid(details: dict[str, list[str]]) -> ApiError:
    return ApiError(
        422,
        "invalid",
        "The request has invalid values; see details for each path.",
        [{"path": path, "errors": errors} for path, errors in details.items()],
    )


def _details_from_validation(error: ValidationError) -> dict[str, list[str]]:
    if not hasattr(error, "error_dict"):
        return {"": list(error.messages)}
    return {
        "" if field == NON_FIELD_ERRORS else pointer(field): messages
        for field, messages in error.message_dict.items()
    }


# Bearer tokens (RFC 6750)

_BEARER = re.compile(r"\ABearer +([A-Za-z0-9._~+/-]+=*) *\Z", re.IGNORECASE)
# last_used_at is a hint for admins, not a log: one UPDATE a minute per token is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _unauthorized(error: str, message: str) -> ApiError:
    challenge = 'Bearer realm="spinui"'
    if error == "invalid_token":
        challenge += ', error="invalid_token"'
    return ApiError(401, error, message, headers={"WWW-Authenticate": challenge})


def _login_failed(request: HttpRequest, username: str = "") -> None:
    # The same signal as a failed password login, so the audit log records both alike.
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def _authenticate(request: HttpRequest) -> AbstractBaseUser:
    header = request.headers.get("Authorization")
    if not header:
        raise _unauthorized(
            "unauthenticated",
            "Send an API token as 'Authorization: Bearer <token>'; "
            "`python manage.py create_api_token USERNAME` makes one.",
        )
    match = _BEARER.match(header)
    if match is None:
        _login_failed(request)
        raise _unauthorized(
            "invalid_token",
            "The Authorization header is malformed; send 'Authorization: Bearer <token>'.",
        )
    token = ApiToken.objects.for_key(match[1])
    if token is None:
        _login_failed(request)
        raise _unauthorized("invalid_token", "The API token is unknown or was revoked.")
    now = timezone.now()
    if token.expired(now):
        _login_failed(request, token.user.get_username())
        raise _unauthorized(
            "invalid_token",
            f"The API token expired at {token.expires_at:%Y-%m-%d %H:%M:%S} UTC; make a new one.",
        )
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def api_view(*methods: str, authenticated: bool = True) -> Callable:
    """A JSON API view: CSRF-exempt (tokens only, no session), errors as JSON bodies."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return error_response(
                    405,
                    "method_not_allowed",
                    f"{request.method} is not allowed here; use {', '.join(methods)}.",
                    headers={"Allow": ", ".join(methods)},
                )
            try:
                if authenticated:
                    request.user = _authenticate(request)
                return view(request, *args, **kwargs)
            except ApiError as error:
                return error.response()
            except Http404 as error:
                return error_response(404, "not_found", str(error) or "Not found.")
            except PermissionDenied as error:
                message = str(error) or "You may not do this; ask an admin for a role that may."
                return error_response(403, "forbidden", message)
            except ValidationError as error:
                return _invalid(_details_from_validation(error)).response()

        wrapper.allowed_methods = methods  # type: ignore[attr-defined]
        return wrapper

    return decorator


# Request bodies

JSON_CONTENT_TYPE = "application/json"
# Deep enough for any real attribute, shallow enough for every encoder and database.
MAX_DEPTH = 64


def _refuse_constant(name: str) -> None:
    raise ApiError(
        400,
        "malformed_json",
        f"The body is not valid JSON: {name} is not a JSON number.",
    )


def _number(text: str) -> int | float:
    """A JSON number that every database can store: finite, of a sane number of digits."""
    try:
        number = float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        number = math.inf
    if not math.isfinite(number):
        shown = text if len(text) <= 20 else f"{text[:20]}…"
        raise ApiError(400, "malformed_json", f"The number {shown} is too large to store.")
    return number


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object, or an ApiError saying what is wrong with it and where."""
    if request.content_type != JSON_CONTENT_TYPE:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Send the body as {JSON_CONTENT_TYPE} (got "
            f"{request.content_type or 'no Content-Type'}).",
        )
    charset = request.content_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise ApiError(
            415, "unsupported_media_type", f"Send the body as UTF-8 (got charset {charset})."
        )
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(
            413,
            "payload_too_large",
            f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
        ) from None
    if not raw:
        raise ApiError(
            400,
            "malformed_json",
            "The body is empty; send a JSON object, with a Content-Length "
            "(chunked bodies are not read).",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiError(
            400, "malformed_json", f"The body is not UTF-8: invalid byte at offset {error.start}."
        ) from None
    try:
        body = json.loads(
            text, parse_constant=_refuse_constant, parse_float=_number, parse_int=_number
        )
    except json.JSONDecodeError as error:
        raise ApiError(
            400,
            "malformed_json",
            f"The body is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}.",
        ) from None
    except RecursionError:
        raise ApiError(400, "malformed_json", "The body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise _invalid({"": ["Send a JSON object."]})
    problems = dict(_unstorable(body, ()))
    if problems:
        raise _invalid(problems)
    return body


def _unstorable(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str, list[str]]]:
    """Places no database can keep: NUL characters, lone surrogates, runaway nesting."""
    if len(path) > MAX_DEPTH:
        yield pointer(*path), [f"Nest values at most {MAX_DEPTH} levels deep."]
        return
    if isinstance(value, str):
        if "\x00" in value:
            yield pointer(*path), ["Remove the NUL character (\\u0000)."]
        elif not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                yield pointer(*path), ["Remove the unpaired surrogate (\\ud800-\\udfff)."]
    elif isinstance(value, dict):
        for key, member in value.items():
            key_problems = list(_unstorable(key, (*path, key)))
            yield from key_problems
            if not key_problems:
                yield from _unstorable(member, (*path, key))
    elif isinstance(value, list):
        for index, member in enumerate(value):
            yield from _unstorable(member, (*path, index))


# Applications, in Gate's shapes

CORE_FIELDS = ("name", "email", "description")
# Shown by the API but set by spinui; sent back (a GET edited and PATCHed) they are ignored.
READ_ONLY_FIELDS = ("createTs", "updateTs")


def _epoch_ms(moment: datetime) -> str:
    # Gate sends times as milliseconds since the epoch, in strings.
    return str(int(moment.timestamp()) * 1000 + moment.microsecond // 1000)


def application_attributes(application: Application) -> dict[str, Any]:
    """Gate's flat application: further attributes alongside the fields spinui owns."""
    return {
        **application.attributes,
        "name": application.name,
        "email": application.email,
        "description": application.description,
        "createTs": _epoch_ms(application.created_at),
        "updateTs": _epoch_ms(application.updated_at),
    }


def application_detail(application: Application) -> dict[str, Any]:
    """Gate's GET /applications/{name}: the name, and the application under `attributes`."""
    return {"name": application.name, "attributes": application_attributes(application)}


def _application_fields(body: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """Split a flat Gate application into spinui's fields and the further attributes."""
    problems: dict[str, list[str]] = {}
    fields: dict[str, str] = {}
    attributes: dict[str, Any] = {}
    for key, value in body.items():
        if key in CORE_FIELDS:
            if isinstance(value, str):
                fields[key] = value
            else:
                problems[pointer(key)] = ["Give a string."]
        elif key == "attributes":
            problems[pointer(key)] = [
                "Put further attributes at the top level, next to name and email."
            ]
        elif key not in READ_ONLY_FIELDS:
            attributes[key] = value
    for path, message in guard_errors(attributes.get("trafficGuards")):
        problems.setdefault(path, []).append(message)
    if problems:
        raise _invalid(problems)
    return fields, attributes


def _duplicate(name: str) -> ApiError:
    return ApiError(
        409,
        "conflict",
        f"An application named {name!r} already exists; choose another name.",
        [{"path": pointer("name"), "errors": ["This name is taken."]}],
    )


@api_view("GET", "POST")
def applications(request: ApiRequest) -> JsonResponse:
    if request.method == "POST":
        return _application_create(request)
    listed = visible(request.user, Application).order_by("name")
    return JsonResponse([application_attributes(app) for app in listed], safe=False)


def _application_create(request: ApiRequest) -> JsonResponse:
    if not request.user.has_perm("spinui.add_application"):
        raise PermissionDenied("You may not create applications; ask an admin for a role that may.")
    fields, attributes = _application_fields(json_body(request))
    application = Application(**fields, attributes=attributes)
    try:
        application_create(actor=request.user, application=application)
    except ValidationError as error:
        if any(e.code == "unique" for e in getattr(error, "error_dict", {}).get("name", [])):
            raise _duplicate(application.name) from None
        raise
    except IntegrityError:
        # Another request took the name between validation and insert.
        raise _duplicate(application.name) from None
    return JsonResponse(
        application_detail(application),
        status=201,
        headers={"Location": reverse("api_application", args=[application.name])},
    )


@api_view("GET", "PATCH", "DELETE")
def application(request: ApiRequest, name: str) -> HttpResponse:
    if request.method == "GET":
        return JsonResponse(application_detail(get_application_for(request.user, name, READ)))
    found = get_application_for(request.user, name, WRITE)
    if request.method == "DELETE":
        try:
            application_delete(actor=request.user, application=found)
        except InUse as error:
            raise ApiError(
                409, "in_use", str(error), [{"path": "", "errors": error.referents}]
            ) from None
        return HttpResponse(status=204)
    return _application_update(request, found)


def _application_update(request: ApiRequest, found: Application) -> JsonResponse:
    """Front50's PATCH: given fields replace, attributes merge, a null attribute is removed."""
    fields, attributes = _application_fields(json_body(request))
    renamed = fields.pop("name", found.name) != found.name
    with transaction.atomic():
        # Locked, so two PATCHes of different attributes both land.
        locked = Application.objects.select_for_update().filter(pk=found.pk).first()
        if locked is None:
            raise Http404(f"No application named {found.name!r}.")
        if attributes:
            merged = {**locked.attributes, **attributes}
            fields["attributes"] = {k: v for k, v in merged.items() if v is not None}
        if renamed:
            raise _renamed(locked, fields)
        application_update(actor=request.user, application=locked, **fields)
    return JsonResponse(application_detail(locked))


def _renamed(application: Application, fields: dict[str, Any]) -> ApiError:
    """The refusal of a rename, with whatever else is wrong with the other fields."""
    problems = {
        pointer("name"): ["An application's name cannot change; create a new application instead."]
    }
    for field, value in fields.items():
        setattr(application, field, value)
    try:
        application.full_clean()
    except ValidationError as error:
        problems |= _details_from_validation(error)
    return _invalid(problems)


# Credentials (Spinnaker's accounts)


def _public_url(url: str) -> str:
    """The region's URL without user info, query or fragment, which may carry secrets."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def credential(account: Account, regions: Iterable[Region]) -> dict[str, Any]:
    return {
        "name": account.name,
        "environment": account.environment,
        "type": account.provider,
        "regions": [{"name": region.name, "url": _public_url(region.url)} for region in regions],
    }


@api_view("GET")
def credentials(request: ApiRequest) -> JsonResponse:
    # Only what is shown: loading `secret` would decrypt every region's credentials.
    regions = Region.objects.only("account", "name", "url").order_by("name")
    accounts = (
        visible(request.user, Account)
        .order_by("name")
        .prefetch_related(Prefetch("regions", queryset=regions))
    )
    return JsonResponse(
        [credential(account, account.regions.all()) for account in accounts], safe=False
    )


# The document and the rest


@api_view("GET", authenticated=False)
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi_document())


@api_view("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", authenticated=False)
def not_found(request: HttpRequest, path: str) -> JsonResponse:
    return error_response(
        404, "not_found", f"No API route /api/v1/{path}; see /api/v1/openapi.json."
    )
