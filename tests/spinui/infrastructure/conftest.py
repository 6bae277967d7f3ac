"""The infrastructure cache's tests: localdcos (from tests/providers) plus spinui rows."""

import pytest

from spinui.models import Account, Application, Region
from tests.providers.conftest import (  # noqa: F401 - fixtures shared with the provider tests
    localdcos,
    service_account_key,
    start_localdcos,
    wait_until,
)


def region_of(server, *, account: str = "dev", cluster: str = "dev", **fields) -> Region:
    """A Region of ACCOUNT (created if needed) pointing at localdcos's CLUSTER."""
    owner, _ = Account.objects.get_or_create(name=account, defaults={"environment": account})
    fields.setdefault("url", server.url(cluster) if server else "")
    return Region.objects.create(account=owner, name=cluster, **fields)


@pytest.fixture
def hello(db) -> Application:
    return Application.objects.create(name="hello", email="team@example.com")


@pytest.fixture(autouse=True)
def quick_dcos_calls(settings) -> None:
    settings.SPINUI_DCOS_CONNECT_TIMEOUT = 1
    settings.SPINUI_DCOS_READ_TIMEOUT = 5
    settings.SPINUI_DCOS_RETRIES = 0
