import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_binary(name: str, path: str | None = None) -> str:
    """The binary's path; a skip where a bare machine lacks it, a failure under CI=true."""
    found = path if path and os.path.exists(path) else shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed (apt-get install -y {name})"
    if IN_CI:
        pytest.fail(f"{message}; CI must run every test")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(items: list) -> None:
    """Slow end-to-end tests run last, so a quick failure shows first."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is not None)
