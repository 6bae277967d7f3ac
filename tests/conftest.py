import os
import shutil
import socket
import time
from collections.abc import Callable

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
# Fixtures several suites share: real Celery workers, a real Docker registry.
pytest_plugins = ["tests.workers", "tests.registry"]


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


def free_port() -> int:
    """A port nothing listens on now, for a server that must be told its port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], object], timeout: float = 15.0, interval: float = 0.05):
    """Poll until check() is truthy; its value, or a failure after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")
