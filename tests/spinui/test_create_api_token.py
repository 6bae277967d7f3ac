from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from spinui.models import ApiToken, AuditEntry


def create_api_token(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_it_prints_a_token_that_authenticates_its_user(make_user):
    make_user("alice")

    key, note = create_api_token("alice")

    assert key.startswith("spin_")
    assert "shown only once" in note
    response = Client(headers={"Authorization": f"Bearer {key}"}).get("/api/v1/applications")
    assert response.status_code == 200


def test_only_the_hash_is_stored(make_user):
    make_user("alice")

    key, _ = create_api_token("alice", "--name", "ci")

    token = ApiToken.objects.get()
    assert token.key_hash == ApiToken.hash(key)
    assert token.prefix == key[:12]
    assert token.name == "ci"
    stored = [str(value) for value in ApiToken.objects.values().get().values()]
    assert not any(key in value for value in stored)


def test_each_call_makes_a_new_token(make_user):
    make_user("alice")

    first, _ = create_api_token("alice")
    second, _ = create_api_token("alice")

    assert first != second
    assert ApiToken.objects.count() == 2


def test_a_token_can_expire_after_some_days(make_user):
    make_user("alice")

    create_api_token("alice", "--expires-days", "7")

    expires_in = ApiToken.objects.get().expires_at - timezone.now()
    assert timedelta(days=6, hours=23) < expires_in <= timedelta(days=7)


def test_a_token_without_expiry_never_expires(make_user):
    make_user("alice")

    _, note = create_api_token("alice")

    assert ApiToken.objects.get().expires_at is None
    assert "never expires" in note


def test_making_a_token_is_audited_without_the_token(make_user):
    make_user("alice")

    key, _ = create_api_token("alice", "--name", "ci")

    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_type) == ("create", "apitoken")
    assert entry.changes == {"user": [None, "alice"], "name": [None, "ci"]}
    assert key not in str(entry.changes) and key not in entry.target_name


@pytest.mark.parametrize(
    "args, message",
    [
        (["nobody"], "No user named 'nobody'"),
        (["alice", "--expires-days", "0"], "at least 1"),
        (["alice", "--name", "x" * 101], "at most 100 characters"),
    ],
)
def test_it_refuses_bad_arguments_and_stores_nothing(make_user, args, message):
    make_user("alice")

    with pytest.raises(CommandError, match=message):
        create_api_token(*args)

    assert not ApiToken.objects.exists()
    assert not AuditEntry.objects.exists()


def test_it_refuses_an_inactive_user(make_user):
    user = make_user("alice")
    user.is_active = False
    user.save()

    with pytest.raises(CommandError, match="inactive"):
        create_api_token("alice")
