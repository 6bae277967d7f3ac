"""URL helpers over HTTPS: the checked address is dialled and the certificate verified."""

import datetime
import ipaddress
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pipelines.expressions import ExpressionError, evaluate_template

from .conftest import allowing


def self_signed(directory) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
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
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


@pytest.fixture
def https_server(tmp_path):
    cert_path, key_path = self_signed(tmp_path)
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            hits.append(self.path)
            body = b'{"replicas": 7}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield httpd.server_address[1], cert_path, hits
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_https_is_fetched_when_the_certificate_is_trusted(https_server, monkeypatch):
    port, cert_path, hits = https_server
    monkeypatch.setenv("SSL_CERT_FILE", cert_path)
    template = f"${{#jsonFromUrl('https://localhost:{port}/config.json').replicas}}"
    assert evaluate_template(template, {}, environment=allowing(f"localhost:{port}")) == 7
    assert hits == ["/config.json"]


def test_https_with_an_untrusted_certificate_is_refused(https_server):
    port, _, hits = https_server
    template = f"${{#fromUrl('https://localhost:{port}/config.json')}}"
    with pytest.raises(ExpressionError, match="CERTIFICATE_VERIFY_FAILED"):
        evaluate_template(template, {}, environment=allowing(f"localhost:{port}"))
    assert hits == []
