"""Region credentials and registry passwords never come back out: not in a page, an audit
entry, a log line, or the database in clear."""

import logging

import pytest
from django.db import connection
from django.urls import reverse

from spinui.models import AuditEntry, DockerRegistry, Region

TOKEN = "tok-3f9a7c1e5b"
PASSWORD = "pw-8d2e6a4c0f"
REGISTRY_PASSWORD = "reg-1b3d5f7h9j"


@pytest.fixture
def key_pem(private_key) -> str:
    return private_key


@pytest.fixture
def secrets_everywhere(client, admin, account, key_pem) -> list[str]:
    """Create, through the pages, a region of each auth type and a registry."""
    client.force_login(admin)
    regions = [
        ("tokenregion", "token", "", TOKEN),
        ("pwregion", "password", "ops", PASSWORD),
        ("saregion", "service_account", "spinui-sa", key_pem),
    ]
    for name, auth_type, uid, secret in regions:
        response = client.post(
            reverse("region_create", args=["dev"]),
            {
                "name": name,
                "url": "https://dcos.example",
                "marathon_path": "/service/marathon",
                "metronome_path": "/service/metronome",
                "auth_type": auth_type,
                "uid": uid,
                "secret": secret,
            },
        )
        assert response.status_code == 302, response.content
    response = client.post(
        reverse("registry_create"),
        {
            "name": "hub",
            "address": "https://registry.example",
            "username": "ci",
            "password": REGISTRY_PASSWORD,
            "repositories": "spinui/hello\nspinui/other",
        },
    )
    assert response.status_code == 302
    # The key's base64 body is the secret part; any 40 characters of it would do.
    key_body = key_pem.splitlines()[5]
    return [TOKEN, PASSWORD, REGISTRY_PASSWORD, key_body]


def test_secrets_are_stored_and_used_decrypted(secrets_everywhere, key_pem):
    assert Region.objects.get(name="tokenregion").secret == TOKEN
    assert Region.objects.get(name="saregion").secret == key_pem.strip()
    assert DockerRegistry.objects.get(name="hub").password == REGISTRY_PASSWORD


def test_the_database_holds_only_ciphertext(secrets_everywhere):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret FROM spinui_region UNION ALL SELECT password FROM spinui_dockerregistry"
        )
        stored = " ".join(row[0] for row in cursor.fetchall())
    for secret in secrets_everywhere:
        assert secret not in stored


@pytest.mark.parametrize(
    "url",
    [
        reverse("account_detail", args=["dev"]),
        reverse("account_list"),
        reverse("region_edit", args=["dev", "tokenregion"]),
        reverse("region_edit", args=["dev", "pwregion"]),
        reverse("region_edit", args=["dev", "saregion"]),
        reverse("registry_list"),
        reverse("registry_edit", args=["hub"]),
        reverse("audit_list"),
    ],
)
def test_no_page_shows_a_secret(client, secrets_everywhere, url):
    page = client.get(url).content.decode()
    for secret in secrets_everywhere:
        assert secret not in page


def test_a_form_sent_back_with_errors_does_not_echo_the_secret(client, admin, account):
    client.force_login(admin)
    response = client.post(
        reverse("region_create", args=["dev"]),
        {
            "name": "Bad Name",
            "url": "https://dcos.example",
            "auth_type": "token",
            "secret": TOKEN,
            "marathon_path": "/service/marathon",
            "metronome_path": "/service/metronome",
        },
    )
    assert response.status_code == 200
    assert "Use lowercase letters" in response.content.decode()
    assert TOKEN not in response.content.decode()


def test_audit_entries_record_that_a_secret_changed_but_not_its_value(client, secrets_everywhere):
    response = client.post(
        reverse("region_edit", args=["dev", "tokenregion"]),
        {
            "url": "https://dcos.example",
            "auth_type": "token",
            "secret": "tok-brand-new-77",
            "marathon_path": "/service/marathon",
            "metronome_path": "/service/metronome",
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(target_type="region", action="update").get()
    assert entry.changes == {"secret": ["(set)", "(replaced)"]}
    everything = " ".join(str(e.changes) for e in AuditEntry.objects.all())
    for secret in [*secrets_everywhere, "tok-brand-new-77"]:
        assert secret not in everything


def test_leaving_the_secret_empty_keeps_the_stored_one(client, secrets_everywhere):
    response = client.post(
        reverse("region_edit", args=["dev", "tokenregion"]),
        {
            "url": "https://other.example",
            "auth_type": "token",
            "secret": "",
            "marathon_path": "/service/marathon",
            "metronome_path": "/service/metronome",
        },
    )
    assert response.status_code == 302
    region = Region.objects.get(name="tokenregion")
    assert (region.url, region.secret) == ("https://other.example", TOKEN)


def test_no_log_line_carries_a_secret(client, admin, account, key_pem, caplog):
    caplog.set_level(logging.DEBUG)
    client.force_login(admin)
    client.post(
        reverse("region_create", args=["dev"]),
        {
            "name": "logged",
            "url": "https://dcos.example",
            "auth_type": "password",
            "uid": "ops",
            "secret": PASSWORD,
            "marathon_path": "/service/marathon",
            "metronome_path": "/service/metronome",
        },
    )
    client.get(reverse("region_edit", args=["dev", "logged"]))
    client.post(reverse("login"), {"username": "admin", "password": PASSWORD})
    assert Region.objects.filter(name="logged").exists()
    assert PASSWORD not in caplog.text
    assert key_pem.splitlines()[5] not in caplog.text
