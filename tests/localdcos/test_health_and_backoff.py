"""Crash loops back off and record lastTaskFailure; failing health checks kill and replace."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .conftest import wait_until

HELLO = {"container": {"type": "DOCKER", "docker": {"image": "spinui/hello:v1"}}, "cpus": 0.1}


def seconds(stamp: str) -> float:
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def test_a_crash_looping_task_backs_off_further_each_time_and_records_its_failure(localdcos):
    localdcos.create(
        {
            "id": "crash",
            **HELLO,
            "env": {"CRASH_ON_START": "1"},
            "backoffSeconds": 1,
            "backoffFactor": 3,
            "maxLaunchDelaySeconds": 3600,
        }
    )
    failures: list[dict] = []

    def five_failures():
        failure = localdcos.app("/crash").get("lastTaskFailure")
        if failure and (not failures or failure["taskId"] != failures[-1]["taskId"]):
            failures.append(failure)
        return len(failures) >= 5

    wait_until(five_failures, timeout=30, interval=0.01)
    failure = failures[-1]
    assert failure["state"] == "TASK_FAILED"
    assert failure["message"] == "Command exited with status 1"
    assert failure["appId"] == "/crash" and failure["host"] == "127.0.0.1"
    gaps = [
        seconds(b["timestamp"]) - seconds(a["timestamp"])
        for a, b in zip(failures, failures[1:], strict=False)
    ]
    assert gaps[-1] > 2 * gaps[0], f"the delay should grow: {gaps}"
    deployments = localdcos.get("/v2/deployments").json()
    assert len(deployments) == 1, "a deployment whose task never runs stays"


def test_an_image_that_does_not_exist_fails_like_a_missing_tag(localdcos):
    localdcos.create(
        {"id": "ghost", "container": {"type": "DOCKER", "docker": {"image": "nobody/nothing:1"}}}
    )
    failure = wait_until(lambda: localdcos.app("/ghost").get("lastTaskFailure"))
    assert failure["state"] == "TASK_FAILED"
    assert "manifest unknown" in failure["message"]


def test_a_failing_health_check_kills_the_task_and_a_new_one_replaces_it(localdcos):
    localdcos.create(
        {
            "id": "sick",
            **HELLO,
            "env": {"FAIL_HEALTH": "1"},
            "healthChecks": [
                {
                    "protocol": "HTTP",
                    "path": "/health",
                    "gracePeriodSeconds": 0,
                    "intervalSeconds": 1,
                    "timeoutSeconds": 2,
                    "maxConsecutiveFailures": 2,
                }
            ],
        }
    )
    first = wait_until(lambda: localdcos.running_task_ids("/sick"))
    unhealthy = wait_until(
        lambda: [
            r
            for t in localdcos.app("/sick")["tasks"]
            for r in t["healthCheckResults"]
            if not r["alive"]
        ]
    )
    assert unhealthy[0]["lastFailureCause"] == "HTTP 500"
    wait_until(lambda: (ids := localdcos.running_task_ids("/sick")) and not ids & first)
    assert localdcos.app("/sick").get("lastTaskFailure") is None, "a kill is not a failure"


def test_a_healthy_app_reports_healthy_counts_and_readiness(localdcos):
    localdcos.create(
        {
            "id": "fine",
            **HELLO,
            "instances": 2,
            "portDefinitions": [{"port": 0, "name": "http"}],
            "healthChecks": [{"protocol": "HTTP", "path": "/health", "intervalSeconds": 1}],
            "readinessChecks": [{"path": "/ready", "portName": "http", "intervalSeconds": 1}],
        }
    )
    app = localdcos.deployed("/fine")
    assert app["tasksHealthy"] == 2 and app["tasksUnhealthy"] == 0
    results = localdcos.get("/v2/apps?embed=apps.readiness").json()["apps"][0]
    assert {r["ready"] for r in results["readinessCheckResults"]} == {True}
    task = app["tasks"][0]
    port = task["ports"][0]
    hello = localdcos.session.get(f"http://127.0.0.1:{port}/", timeout=5).text
    assert hello.startswith("Hello world") and "v1" in hello


def test_a_tcp_and_a_command_health_check_pass_against_a_live_task(localdcos):
    localdcos.create(
        {
            "id": "checked",
            **HELLO,
            "healthChecks": [
                {"protocol": "TCP", "intervalSeconds": 1},
            ],
        }
    )
    assert localdcos.deployed("/checked")["tasksHealthy"] == 1
    localdcos.create(
        {
            "id": "commanded",
            "cmd": "sleep 3600",
            "healthChecks": [
                {
                    "protocol": "COMMAND",
                    "command": {"value": 'test -n "$MESOS_TASK_ID"'},
                    "intervalSeconds": 1,
                }
            ],
        }
    )
    assert localdcos.deployed("/commanded")["tasksHealthy"] == 1


def test_readiness_checks_gate_the_deployment_until_the_task_answers_ready(localdcos):
    server = {
        "cmd": "exec python3 -m http.server --bind 127.0.0.1 $PORT0",
        "portDefinitions": [{"port": 0, "name": "http"}],
    }
    localdcos.create(
        {
            "id": "gated",
            **server,
            "readinessChecks": [
                {
                    "path": "/not-there",
                    "portName": "http",
                    "intervalSeconds": 1,
                    "preserveLastResponse": True,
                }
            ],
        }
    )

    def not_ready_result():
        # Until the server listens a check gets no answer, and so has no lastResponse.
        (plan,) = localdcos.get("/v2/deployments").json()
        results = plan["currentActions"][0]["readinessCheckResults"]
        return results if results and "lastResponse" in results[0] else None

    (result,) = wait_until(not_ready_result)
    assert result["ready"] is False and result["name"] == "readinessCheck"
    assert result["lastResponse"]["status"] == 404
    assert localdcos.app("/gated")["tasksRunning"] == 1
    fixed = localdcos.request(
        "PUT",
        "/v2/apps/gated?force=true",
        json={"readinessChecks": [{"path": "/", "portName": "http", "intervalSeconds": 1}]},
    )
    assert fixed.status_code == 200
    localdcos.deployed("/gated")


def test_a_mesos_http_check_passes_against_a_live_task(localdcos):
    localdcos.create(
        {
            "id": "mesos-checked",
            **HELLO,
            "healthChecks": [{"protocol": "MESOS_HTTP", "path": "/health", "intervalSeconds": 1}],
        }
    )
    assert localdcos.deployed("/mesos-checked")["tasksHealthy"] == 1


def test_reverting_a_create_deletes_the_app(localdcos):
    created = localdcos.create(
        {"id": "never", **HELLO, "env": {"CRASH_ON_START": "1"}, "backoffSeconds": 1}
    )
    deployment_id = created.headers["Marathon-Deployment-Id"]
    response = localdcos.request("DELETE", f"/v2/deployments/{deployment_id}")
    assert response.status_code == 200
    wait_until(lambda: localdcos.get("/v2/apps/never").status_code == 404)
    wait_until(lambda: localdcos.get("/v2/deployments").json() == [])


TLS_SERVER = """
import http.server, os, ssl
server = http.server.HTTPServer(
    ("127.0.0.1", int(os.environ["PORT0"])), http.server.SimpleHTTPRequestHandler
)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(os.environ["CERT_FILE"], os.environ["KEY_FILE"])
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"""


def self_signed(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_an_https_health_check_passes_against_a_tls_task_with_a_self_signed_cert(
    localdcos, tmp_path
):
    cert_file, key_file = self_signed(tmp_path)
    script = tmp_path / "tls_server.py"
    script.write_text(TLS_SERVER)
    localdcos.create(
        {
            "id": "tls",
            "cmd": f"exec python3 {script}",
            "env": {"CERT_FILE": str(cert_file), "KEY_FILE": str(key_file)},
            "healthChecks": [{"protocol": "HTTPS", "path": "/", "intervalSeconds": 1}],
        }
    )
    assert localdcos.deployed("/tls")["tasksHealthy"] == 1
