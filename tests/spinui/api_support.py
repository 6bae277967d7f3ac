"""Helpers for the API tests: a token for a user, and a client that sends it."""

from datetime import datetime

from django.http import HttpResponse
from django.test import Client

from spinui.models import ApiToken


def token_for(user, expires_at: datetime | None = None) -> str:
    key = ApiToken.new_key()
    ApiToken.objects.create(
        user=user, prefix=key[:12], key_hash=ApiToken.hash(key), expires_at=expires_at
    )
    return key


def api_client(user=None, **client_options) -> Client:
    """A client sending USER's new token; with no user, a client sending none."""
    headers = {"Authorization": f"Bearer {token_for(user)}"} if user is not None else {}
    return Client(headers=headers, **client_options)


def send_json(client: Client, method: str, path: str, body) -> HttpResponse:
    return getattr(client, method.lower())(path, body, content_type="application/json")
