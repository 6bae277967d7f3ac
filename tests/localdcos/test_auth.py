"""DC/OS ACS auth: service-account and password logins, tokens, 401 with oauthjwt."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from marathon import MarathonClient

from .conftest import LocalDcos, wait_until


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def account_key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture
def secured(tmp_path, account_key):
    public = tmp_path / "deployer.pub.pem"
    public.write_bytes(
        account_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    server = LocalDcos(
        tmp_path / "localdcos",
        [
            "--service-account",
            f"deployer={public}",
            "--user",
            "alice=wonderland",
            "--token-ttl",
            "2",
        ],
    ).start()
    yield server
    server.stop()


def service_login_token(key, uid: str = "deployer", **claims) -> str:
    return jwt.encode({"uid": uid, **claims}, key, algorithm="RS256")


def login(server: LocalDcos, body: dict) -> requests.Response:
    return requests.post(server.url() + "/acs/api/v1/auth/login", json=body, timeout=10)


def test_without_a_token_every_path_is_401_with_oauthjwt(secured):
    for method, path in [("GET", "/v2/apps"), ("POST", "/v2/apps"), ("GET", "/ping")]:
        response = requests.request(method, secured.url() + path, json={}, timeout=10)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "oauthjwt"
        assert response.headers["Content-Type"] == "text/html"


def test_a_service_account_logs_in_with_its_key_and_the_token_works_both_ways(secured, account_key):
    response = login(secured, {"uid": "deployer", "token": service_login_token(account_key)})
    assert response.status_code == 200
    token = response.json()["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["uid"] == "deployer" and claims["exp"] <= time.time() + 3
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    for header in (f"token={token}", f"Bearer {token}"):
        answer = requests.get(
            secured.url() + "/v2/apps", headers={"Authorization": header}, timeout=10
        )
        assert answer.status_code == 200 and answer.json() == {"apps": []}


def test_the_marathon_client_works_with_an_auth_token(secured, account_key):
    token = login(secured, {"uid": "deployer", "token": service_login_token(account_key)}).json()[
        "token"
    ]
    client = MarathonClient(secured.url(), auth_token=token)
    assert client.list_apps() == []


def test_a_login_token_signed_with_another_key_is_refused_and_nothing_is_done(secured):
    response = login(secured, {"uid": "deployer", "token": service_login_token(new_key())})
    assert response.status_code == 401
    assert response.json()["code"] == "ERR_INVALID_CREDENTIALS"
    assert "token" not in response.json()


def test_a_login_token_for_another_uid_is_refused(secured, account_key):
    token = service_login_token(account_key, uid="someone-else")
    assert login(secured, {"uid": "deployer", "token": token}).status_code == 401


def test_an_expired_login_token_is_refused(secured, account_key):
    token = service_login_token(account_key, exp=int(time.time()) - 10)
    assert login(secured, {"uid": "deployer", "token": token}).status_code == 401


def test_a_user_logs_in_with_a_password_and_a_wrong_password_is_refused(secured):
    assert login(secured, {"uid": "alice", "password": "wonderland"}).status_code == 200
    assert login(secured, {"uid": "alice", "password": "looking-glass"}).status_code == 401
    assert login(secured, {"uid": "bob", "password": "wonderland"}).status_code == 401


def test_an_issued_token_expires_after_the_token_ttl(secured):
    token = login(secured, {"uid": "alice", "password": "wonderland"}).json()["token"]

    def status():
        return requests.get(
            secured.url() + "/v2/apps", headers={"Authorization": f"token={token}"}, timeout=10
        ).status_code

    assert status() == 200
    wait_until(lambda: status() == 401, timeout=10, interval=0.2)


def test_a_forged_or_malformed_token_is_refused_and_creates_nothing(secured):
    forged = jwt.encode({"uid": "alice"}, new_key(), algorithm="RS256")
    hmac_forged = jwt.encode(
        {"uid": "alice"}, "a-guessed-shared-secret-of-32-bytes!", algorithm="HS256"
    )
    for token in (forged, hmac_forged, "not-a-jwt"):
        response = requests.post(
            secured.url() + "/v2/apps",
            json={"id": "sneaky", "cmd": "sleep 1"},
            headers={"Authorization": f"token={token}"},
            timeout=10,
        )
        assert response.status_code == 401
    good = login(secured, {"uid": "alice", "password": "wonderland"}).json()["token"]
    apps = requests.get(
        secured.url() + "/v2/apps", headers={"Authorization": f"Bearer {good}"}, timeout=10
    )
    assert apps.json() == {"apps": []}


def test_without_accounts_auth_is_off(localdcos):
    assert localdcos.get("/v2/apps").status_code == 200
