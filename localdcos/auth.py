"""DC/OS ACS login and token checks (reference §3): RS256 service logins, uid/password."""

from __future__ import annotations

import hmac
import json
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .web import Request, Response, json_response

COOKIE = "dcos-acs-auth-cookie"
UNAUTHORIZED_PAGE = (
    b"<html>\n<head><title>401 Authorization Required</title></head>\n<body>\n"
    b'<script>window.location.href = "/#/login";</script>\n'
    b"<center><h1>401 Authorization Required</h1></center>\n</body>\n</html>\n"
)


def _credentials_error() -> Response:
    return json_response(
        401,
        {
            "title": "Authentication error",
            "description": "Invalid credentials. Check the uid, the password or the login token.",
            "code": "ERR_INVALID_CREDENTIALS",
        },
    )


class Auth:
    def __init__(
        self,
        service_accounts: dict[str, str],
        users: dict[str, str],
        token_ttl: float,
        key_file: Path,
    ):
        self.service_accounts = service_accounts
        self.users = users
        self.token_ttl = token_ttl
        if key_file.exists():
            self._key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        else:
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_bytes(
                self._key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            key_file.chmod(0o600)
        self._public = self._key.public_key()

    @property
    def enabled(self) -> bool:
        return bool(self.service_accounts or self.users)

    def issue(self, uid: str) -> str:
        claims = {"uid": uid, "exp": int(time.time() + self.token_ttl)}
        return jwt.encode(claims, self._key, algorithm="RS256")

    def login(self, request: Request) -> Response:
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("uid"), str):
            return json_response(
                400,
                {
                    "title": "Bad Request",
                    "description": "Request has bad Content-Type or lacks JSON data",
                    "code": "ERR_MALFORMED_REQUEST",
                },
            )
        uid = body["uid"]
        if isinstance(body.get("token"), str) and uid in self.service_accounts:
            try:
                claims = jwt.decode(body["token"], self.service_accounts[uid], algorithms=["RS256"])
            except jwt.PyJWTError:
                return _credentials_error()
            if claims.get("uid") != uid:
                return _credentials_error()
        elif isinstance(body.get("password"), str) and uid in self.users:
            if not hmac.compare_digest(body["password"].encode(), self.users[uid].encode()):
                return _credentials_error()
        else:
            return _credentials_error()
        token = self.issue(uid)
        return json_response(
            200, {"token": token}, {"Set-Cookie": f"{COOKIE}={token}; Path=/; HttpOnly"}
        )

    def authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        token = ""
        if header.startswith("token="):
            token = header[len("token=") :]
        elif header.lower().startswith("bearer "):
            token = header[len("bearer ") :]
        else:
            for part in request.headers.get("cookie", "").split(";"):
                name, _, value = part.strip().partition("=")
                if name == COOKIE:
                    token = value
        if not token:
            return False
        try:
            claims = jwt.decode(token.strip(), self._public, algorithms=["RS256"])
        except jwt.PyJWTError:
            return False
        return isinstance(claims.get("uid"), str)


def unauthorized() -> Response:
    return Response(
        401, UNAUTHORIZED_PAGE, {"Content-Type": "text/html", "WWW-Authenticate": "oauthjwt"}
    )
