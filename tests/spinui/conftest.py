import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.models import Group, User
from guardian.shortcuts import assign_perm

from spinui.models import Account, Application, Region
from spinui.permissions import codename


@pytest.fixture
def admin(db) -> User:
    return User.objects.create_superuser("admin", "admin@example.com", "admin-pass-1")


@pytest.fixture
def make_user(db):
    """A user holding exactly the given levels on the given objects, through one role."""

    def make(username: str, grants: dict | None = None, can_create: bool = False) -> User:
        user = User.objects.create_user(username, f"{username}@example.com", "user-pass-1")
        role = Group.objects.create(name=f"role-{username}")
        user.groups.add(role)
        for obj, levels in (grants or {}).items():
            for level in levels:
                assign_perm(codename(level, type(obj)), role, obj)
        if can_create:
            role.permissions.add(*role.permissions.model.objects.filter(codename="add_application"))
        return user

    return make


@pytest.fixture
def application(db) -> Application:
    return Application.objects.create(name="hello", email="team@example.com", description="Hi")


@pytest.fixture
def account(db) -> Account:
    account = Account.objects.create(name="dev", environment="dev")
    Region.objects.create(account=account, name="dev", url="http://127.0.0.1:18080")
    return account


@pytest.fixture
def private_key() -> str:
    """A service account's RSA private key in PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
