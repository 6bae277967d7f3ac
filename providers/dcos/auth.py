"""DC/OS authentication: none, a static token, a user's password, or a service account.

Logins go to `/acs/api/v1/auth/login`; the token they return is cached, renewed before it
expires and once when the cluster answers 401. Tokens and keys are never logged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import jwt

from providers.dcos.config import (
    AUTH_NONE,
    AUTH_PASSWORD,
    AUTH_SERVICE_ACCOUNT,
    AUTH_TOKEN,
    RegionConfig,
)
from providers.dcos.transport import DcosError, HttpError, Unauthorized

if TYPE_CHECKING:
    from providers.dcos.transport import Transport

LOGIN_PATH = "/acs/api/v1/auth/login"
# marathon-client renews a day before expiry; short-lived tokens renew at a quarter left.
RENEW_BEFORE_SECONDS = 86_400
RENEW_BEFORE_FRACTION = 0.25
# The service login JWT only has to live until the IAM has checked it.
SERVICE_LOGIN_JWT_SECONDS = 300


class LoginFailed(DcosError):
    """The cluster refused the credentials, or they could not be used."""


class Auth:
    """Gives the token to send; the base class sends none."""

    renews = False

    def token(self, transport: Transport) -> str | None:
        return None

    def invalidate(self, token: str) -> None:
        """Forget TOKEN (the cluster refused it), so the next call logs in again."""


class StaticToken(Auth):
    """A token an admin got with `dcos auth login` (open-source DC/OS); it cannot renew."""

    def __init__(self, token: str) -> None:
        self._token = token.strip()

    def token(self, transport: Transport) -> str | None:
        return self._token

    def __repr__(self) -> str:
        return "StaticToken(…)"


class Login(Auth):
    """A user (uid and password) or a service account (uid and RSA private key)."""

    renews = True

    def __init__(
        self,
        uid: str,
        *,
        password: str | None = None,
        private_key: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if (password is None) == (private_key is None):
            raise ValueError("give exactly one of password and private_key")
        self.uid = uid
        self._password = password
        self._private_key = private_key
        self.clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self.logins = 0

    def __repr__(self) -> str:
        return f"Login(uid={self.uid!r})"

    def token(self, transport: Transport) -> str | None:
        with self._lock:
            if self._token is None or self.clock() >= self._renew_at:
                self._token, self._renew_at = self._login(transport)
            return self._token

    def invalidate(self, token: str) -> None:
        with self._lock:
            if self._token == token:
                self._token = None

    def _credentials(self) -> dict[str, str]:
        if self._password is not None:
            return {"uid": self.uid, "password": self._password}
        try:
            login_token = jwt.encode(
                {"uid": self.uid, "exp": int(self.clock()) + SERVICE_LOGIN_JWT_SECONDS},
                self._private_key,
                algorithm="RS256",
            )
        except (ValueError, TypeError, jwt.PyJWTError) as error:
            raise LoginFailed(
                f"The private key of service account {self.uid!r} cannot sign a login "
                f"token: {type(error).__name__}"
            ) from None
        return {"uid": self.uid, "token": login_token}

    def _login(self, transport: Transport) -> tuple[str, float]:
        try:
            response = transport.request(
                "POST", LOGIN_PATH, json=self._credentials(), authenticate=False
            )
        except Unauthorized as error:
            raise LoginFailed(
                f"Login as {self.uid!r} refused: {error.message}",
                status=401,
                url=error.url,
            ) from None
        except HttpError as error:
            raise LoginFailed(
                f"Login as {self.uid!r} failed: {error.message}",
                status=error.status,
                url=error.url,
            ) from None
        self.logins += 1
        try:
            token = response.json()["token"]
        except (ValueError, KeyError, TypeError):
            raise LoginFailed(f"Login as {self.uid!r} returned no token") from None
        return token, self._renew_time(token)

    def _renew_time(self, token: str) -> float:
        now = self.clock()
        try:
            expires = jwt.decode(token, options={"verify_signature": False}).get("exp")
        except jwt.PyJWTError:
            expires = None
        if not isinstance(expires, int | float):
            # No exp: DC/OS checks it only if present, so the token lives until refused.
            return float("inf")
        margin = min(RENEW_BEFORE_SECONDS, (expires - now) * RENEW_BEFORE_FRACTION)
        return expires - max(margin, 0.0)


def auth_for(config: RegionConfig) -> Auth:
    if config.auth_type == AUTH_NONE:
        return Auth()
    if config.auth_type == AUTH_TOKEN:
        return StaticToken(config.secret)
    if config.auth_type == AUTH_PASSWORD:
        return Login(config.uid, password=config.secret)
    if config.auth_type == AUTH_SERVICE_ACCOUNT:
        return Login(config.uid, private_key=config.secret)
    raise ValueError(f"unknown auth type {config.auth_type!r}")
