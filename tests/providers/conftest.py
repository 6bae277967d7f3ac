"""localdcos as a real subprocess for provider and cache tests: free ports, bounded waits."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from providers.dcos.config import RegionConfig
from tests.conftest import wait_until
from tests.localdcos.conftest import LocalDcos as BaseLocalDcos  # noqa: F401  (the tests here import it from this module)


class LocalDcos(BaseLocalDcos):
    """localdcos with what the provider tests ask of it: region configs, and apps that run."""

    def config(self, cluster: str = "dev", account: str = "dev", **fields) -> RegionConfig:
        return RegionConfig(
            account=account,
            cluster=cluster,
            url=self.url(cluster),
            connect_timeout=2,
            read_timeout=5,
            backoff=0.05,
            **fields,
        )

    def create(self, definition: dict, cluster: str = "dev", **kwargs) -> dict:
        definition = {"cmd": "sleep 3600", "cpus": 0.01, "mem": 16, **definition}
        response = self.request("POST", "/v2/apps", cluster, json=definition, **kwargs)
        assert response.status_code == 201, response.text
        return response.json()

    def app(self, app_id: str, cluster: str = "dev", **kwargs) -> dict:
        return self.request("GET", f"/v2/apps{app_id}", cluster, **kwargs).json()["app"]

    def running(self, app_id: str, count: int, cluster: str = "dev", **kwargs) -> dict:
        """Wait until the app runs COUNT tasks and has no deployment; the app then."""

        def settled():
            app = self.app(app_id, cluster, **kwargs)
            running = [t for t in app["tasks"] if t["state"] == "TASK_RUNNING"]
            return app if len(running) == count and not app["deployments"] else None

        return wait_until(settled)


@pytest.fixture
def start_localdcos(tmp_path: Path) -> Iterator[Callable[..., LocalDcos]]:
    started: list[LocalDcos] = []

    def start(*extra: str, name: str = "localdcos") -> LocalDcos:
        server = LocalDcos(tmp_path / name, list(extra)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def localdcos(start_localdcos) -> LocalDcos:
    return start_localdcos()


@pytest.fixture
def service_account_key(tmp_path: Path) -> tuple[str, Path]:
    """An RSA private key (PEM) and the file of its public key, for --service-account."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = tmp_path / "service-account.pub.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


class Flaky(BaseHTTPRequestHandler):
    """503 twice, then Marathon's info."""

    answers: list[int] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._answer()

    def do_POST(self) -> None:  # noqa: N802
        self._answer()

    def _answer(self) -> None:
        status = self.answers.pop(0) if self.answers else 200
        body = b'{"message":"busy"}' if status >= 500 else b'{"name":"marathon","version":"1"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def serve(handler, wrap=None) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if wrap:
        server.socket = wrap(server.socket)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if wrap else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def tls_server(tmp_path) -> Iterator[tuple[str, str]]:
    """A TLS server for 127.0.0.1 with a self-signed certificate; (its URL, the CA PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localdcos test CA")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    (tmp_path / "cert.pem").write_text(cert_pem)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    Flaky.answers = []
    for url in serve(Flaky, lambda sock: context.wrap_socket(sock, server_side=True)):
        yield url, cert_pem
