"""What the transport says when a cluster refuses or cannot be reached.

Marathon's refusals come from localdcos; faults it cannot produce (a 503, a silent socket,
a TLS certificate) come from small real servers on free ports, not from mocks.
"""

import socket
import threading
from collections.abc import Iterator

import pytest

from providers.dcos.config import RegionConfig
from providers.dcos.marathon import MarathonClient
from providers.dcos.transport import (
    Conflict,
    Invalid,
    NameNotResolved,
    NotFound,
    ServerError,
    TimedOut,
    TlsFailed,
    Transport,
    Unreachable,
)

from .conftest import Flaky, serve


def config(url: str, **fields) -> RegionConfig:
    fields = {"connect_timeout": 1, "read_timeout": 1, "backoff": 0.01, **fields}
    return RegionConfig(account="dev", cluster="dev", url=url, **fields)


def test_a_422_carries_marathons_paths_and_errors(localdcos):
    transport = Transport(localdcos.config())
    definition = {
        "id": "/dev/hello-v000",
        "cmd": "sleep 1",
        "upgradeStrategy": {"minimumHealthCapacity": 2},
    }

    with pytest.raises(Invalid) as refused:
        transport.request("POST", "/v2/apps", json=definition)

    assert refused.value.status == 422
    assert refused.value.details[0]["path"] == "/upgradeStrategy/minimumHealthCapacity"
    assert refused.value.message.startswith("Object is not valid: /upgradeStrategy")


def test_a_duplicate_app_is_a_conflict_with_marathons_message(localdcos):
    localdcos.create({"id": "/dev/hello-v000", "instances": 0})

    with pytest.raises(Conflict, match=r"An app with id \[/dev/hello-v000\] already exists"):
        Transport(localdcos.config()).request(
            "POST", "/v2/apps", json={"id": "/dev/hello-v000", "cmd": "sleep 1"}
        )


def test_a_locked_app_names_the_deployments_holding_it(localdcos):
    # A task that never stays up keeps its deployment open forever, as on Marathon.
    created = localdcos.create({"id": "/dev/hello-v000", "cmd": "exit 1", "instances": 1})
    deployment = created["deployments"][0]["id"]

    with pytest.raises(Conflict) as refused:
        Transport(localdcos.config()).request(
            "PUT", "/v2/apps/dev/hello-v000", json={"instances": 2}
        )

    assert refused.value.deployments == [deployment]
    assert "locked by one or more deployments" in refused.value.message


def test_an_unknown_app_is_not_found(localdcos):
    with pytest.raises(NotFound, match="does not exist"):
        Transport(localdcos.config()).get_json("/v2/apps/dev/nothing-v000")


def test_a_name_that_does_not_resolve_says_dns_and_is_not_retried():
    slept = []
    transport = Transport(config("http://no-such-cluster.invalid"), sleep=slept.append)

    with pytest.raises(NameNotResolved, match="DNS: cannot resolve host no-such-cluster.invalid"):
        transport.get_json("/v2/info")
    assert slept == []


def test_a_refused_connection_is_retried_with_backoff_then_reported():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    slept = []
    transport = Transport(config(f"http://127.0.0.1:{port}", retries=2), sleep=slept.append)

    with pytest.raises(Unreachable, match="Cannot connect to 127.0.0.1: .*refused"):
        transport.get_json("/v2/info")
    assert slept == [0.01, 0.02]


def test_a_cluster_that_never_answers_times_out(silent_server):
    transport = Transport(config(silent_server, read_timeout=0.3, retries=0))

    with pytest.raises(TimedOut, match="Timed out waiting for 127.0.0.1 to answer"):
        transport.get_json("/v2/info")


@pytest.fixture
def flaky_server() -> Iterator[str]:
    yield from serve(Flaky)


def test_a_5xx_is_retried_for_an_idempotent_call(flaky_server):
    Flaky.answers = [503, 502]
    slept = []
    transport = Transport(config(flaky_server), sleep=slept.append)

    assert transport.get_json("/v2/info")["name"] == "marathon"
    assert len(slept) == 2


def test_a_5xx_is_not_retried_for_a_post(flaky_server):
    Flaky.answers = [503]
    transport = Transport(config(flaky_server), sleep=lambda _: None)

    with pytest.raises(ServerError, match="busy"):
        transport.request("POST", "/v2/apps", json={})
    assert Flaky.answers == []


def test_tls_is_verified_with_the_regions_ca(tls_server):
    url, ca = tls_server

    assert MarathonClient(config(url, ca_certificate=ca)).info().name == "marathon"


def test_tls_against_an_unknown_ca_fails_clearly(tls_server):
    url, _ = tls_server

    with pytest.raises(TlsFailed, match="TLS failed talking to 127.0.0.1: .*CERTIFICATE_VERIFY"):
        MarathonClient(config(url)).info()


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_verification_can_be_skipped(tls_server):
    url, _ = tls_server

    assert MarathonClient(config(url, skip_tls_verify=True)).info().name == "marathon"


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for connection in accepted:
        connection.close()
    listener.close()
