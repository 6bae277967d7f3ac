"""Logging in to DC/OS: service accounts, users, static tokens, renewal; against localdcos."""

import logging
import time

import pytest
import requests

from providers.dcos.auth import Login, LoginFailed, StaticToken
from providers.dcos.config import AUTH_PASSWORD, AUTH_SERVICE_ACCOUNT, AUTH_TOKEN
from providers.dcos.marathon import MarathonClient
from providers.dcos.transport import Transport, Unauthorized

from .conftest import wait_until

PASSWORD = "correct horse battery"


@pytest.fixture
def secured(start_localdcos, service_account_key):
    _, public = service_account_key
    return start_localdcos("--service-account", f"spinui={public}", "--user", f"ops={PASSWORD}")


def test_a_service_account_logs_in_with_a_signed_jwt(secured, service_account_key):
    private, _ = service_account_key
    secured.create({"id": "/dev/hello-v000", "instances": 0}, headers=_user_header(secured))
    config = secured.config(auth_type=AUTH_SERVICE_ACCOUNT, uid="spinui", secret=private)
    marathon = MarathonClient(config)

    assert [sg.name for sg in marathon.server_groups("dev")] == ["hello-v000"]
    marathon.info()
    assert marathon.transport.auth.logins == 1


def test_a_user_logs_in_with_a_password(secured):
    config = secured.config(auth_type=AUTH_PASSWORD, uid="ops", secret=PASSWORD)

    assert MarathonClient(config).info().name == "marathon"


def test_a_static_token_is_sent_as_is(secured):
    token = _login(secured, "ops", PASSWORD)
    config = secured.config(auth_type=AUTH_TOKEN, secret=token)

    assert MarathonClient(config).server_groups("dev") == []


def test_no_credentials_on_a_secured_cluster_is_a_clear_401(secured):
    with pytest.raises(Unauthorized) as refused:
        MarathonClient(secured.config()).info()

    assert refused.value.status == 401
    assert "refused the credentials" in refused.value.message
    assert "oauthjwt" in refused.value.message


def test_a_wrong_private_key_is_refused_with_a_clear_message(secured):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    config = secured.config(auth_type=AUTH_SERVICE_ACCOUNT, uid="spinui", secret=wrong)

    with pytest.raises(LoginFailed) as refused:
        MarathonClient(config).info()

    assert refused.value.status == 401
    assert refused.value.message.startswith("Login as 'spinui' refused: ")
    assert "ERR_INVALID_CREDENTIALS" in refused.value.message


def test_a_wrong_password_is_refused_and_never_retried(secured):
    config = secured.config(auth_type=AUTH_PASSWORD, uid="ops", secret="not it")
    marathon = MarathonClient(config)

    with pytest.raises(LoginFailed, match="Login as 'ops' refused: .*Invalid credentials"):
        marathon.info()
    assert marathon.transport.auth.logins == 0


def test_a_static_token_the_cluster_refuses_is_not_renewed(secured):
    transport = Transport(secured.config(), StaticToken("not-a-token"))

    with pytest.raises(Unauthorized):
        transport.get_json("/service/marathon/v2/info")


def test_a_token_is_renewed_before_it_expires(start_localdcos):
    server = start_localdcos("--user", f"ops={PASSWORD}", "--token-ttl", "100")
    now = [time.time()]
    auth = Login("ops", password=PASSWORD, clock=lambda: now[0])
    transport = Transport(server.config(), auth)

    transport.get_json("/v2/info")
    now[0] += 50  # halfway: still fresh
    transport.get_json("/v2/info")
    assert auth.logins == 1

    now[0] += 30  # a quarter of its life left: renew first
    transport.get_json("/v2/info")
    assert auth.logins == 2


def test_an_expired_token_is_renewed_once_on_a_401(start_localdcos):
    server = start_localdcos("--user", f"ops={PASSWORD}", "--token-ttl", "1")
    # A clock that never moves: only the cluster's 401 can tell the token expired.
    auth = Login("ops", password=PASSWORD, clock=lambda: 0.0)
    transport = Transport(server.config(), auth)
    transport.get_json("/v2/info")
    old = auth.token(transport)

    wait_until(
        lambda: (
            requests.get(
                server.url() + "/v2/info", headers={"Authorization": f"token={old}"}, timeout=5
            ).status_code
            == 401
        ),
        timeout=5,
    )
    assert transport.get_json("/v2/info")["name"] == "marathon"
    assert auth.logins == 2


def test_credentials_never_reach_the_log(secured, service_account_key, caplog):
    private, _ = service_account_key
    caplog.set_level(logging.DEBUG)
    config = secured.config(auth_type=AUTH_PASSWORD, uid="ops", secret=PASSWORD)
    marathon = MarathonClient(config)
    marathon.info()
    token = marathon.transport.auth.token(marathon.transport)
    with pytest.raises(LoginFailed):
        MarathonClient(
            secured.config(auth_type=AUTH_SERVICE_ACCOUNT, uid="nobody", secret=private)
        ).info()

    assert PASSWORD not in caplog.text and token not in caplog.text
    assert "PRIVATE KEY" not in caplog.text
    assert PASSWORD not in repr(config) and "PRIVATE" not in repr(marathon.transport.auth)


def _login(server, uid: str, password: str) -> str:
    response = requests.post(
        server.url() + "/acs/api/v1/auth/login",
        json={"uid": uid, "password": password},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


def _user_header(server) -> dict[str, str]:
    return {"Authorization": f"token={_login(server, 'ops', PASSWORD)}"}
