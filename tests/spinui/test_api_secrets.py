"""Region credentials and registry passwords never appear in any API response."""

import pytest

from spinui.models import Account, DockerRegistry, Region
from tests.spinui.api_support import api_client, send_json

TOKEN = "dcos-static-token-5f1d9c"
PASSWORD = "region-password-8e2a71"
REGISTRY_PASSWORD = "registry-password-c03b44"
URL_PASSWORD = "url-password-77aa10"


@pytest.fixture
def secrets(db, application, private_key) -> list[str]:
    account = Account.objects.create(name="prod", environment="prod")
    regions = [
        Region(account=account, name="token", url="https://a.example", auth_type="token"),
        Region(account=account, name="password", url="https://b.example", auth_type="password"),
        Region(account=account, name="sa", url="https://c.example", auth_type="service_account"),
        Region(account=account, name="userinfo", url=f"https://ops:{URL_PASSWORD}@d.example"),
    ]
    for region, uid, secret in zip(
        regions, ["", "ops", "spinui-sa", ""], [TOKEN, PASSWORD, private_key, ""], strict=True
    ):
        region.uid, region.secret = uid, secret
        region.full_clean()
        region.save()
    DockerRegistry.objects.create(
        name="hub", address="https://index.docker.io", username="ci", password=REGISTRY_PASSWORD
    )
    # Every line of the key's body, so that no part of it slips through either.
    key_lines = [line for line in private_key.splitlines() if "PRIVATE KEY" not in line]
    return [TOKEN, PASSWORD, REGISTRY_PASSWORD, URL_PASSWORD, *key_lines]


def test_no_api_response_contains_a_secret(admin, secrets):
    client = api_client(admin)
    responses = [
        client.get("/api/v1/applications"),
        client.get("/api/v1/applications/hello"),
        client.get("/api/v1/credentials"),
        client.get("/api/v1/openapi.json"),
        client.get("/api/v1/nothing"),
        send_json(client, "POST", "/api/v1/applications", {"name": "new", "email": "n@x.io"}),
        send_json(client, "POST", "/api/v1/applications", {"name": "Bad", "email": "bad"}),
        send_json(client, "PATCH", "/api/v1/applications/hello", {"description": "changed"}),
        client.delete("/api/v1/applications/new"),
        client.put("/api/v1/credentials"),
    ]

    assert [response.status_code for response in responses] == [
        200, 200, 200, 200, 404, 201, 422, 200, 204, 405
    ]  # fmt: skip
    for response in responses:
        for secret in secrets:
            assert secret.encode() not in response.content, (response.request, secret)


def test_credentials_still_list_every_region_of_the_account(admin, secrets):
    response = api_client(admin).get("/api/v1/credentials")

    [prod] = [listed for listed in response.json() if listed["name"] == "prod"]
    assert [region["name"] for region in prod["regions"]] == [
        "password",
        "sa",
        "token",
        "userinfo",
    ]
    assert set(prod["regions"][0]) == {"name", "url"}
