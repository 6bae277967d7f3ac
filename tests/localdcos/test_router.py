"""The router on each cluster's router port: Traefik 1.7's Marathon labels, real proxying."""

from __future__ import annotations

import re
import socket
import sys
from collections import Counter
from pathlib import Path

import pytest
import requests

from .conftest import LocalDcos, wait_until

ECHO = r"""
import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        payload = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "headers": self.headers.items(),
                "body": body.decode(),
            }
        ).encode()
        self.send_response(201, "Made It")
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", "a=1")
        self.send_header("Set-Cookie", "b=2")
        self.send_header("X-Upstream", "echo")
        if self.path.startswith("/chunked"):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(payload), 7):
                piece = payload[start : start + 7]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = answer

    def log_message(self, *args):
        pass


ThreadingHTTPServer((os.environ["HOST"], int(os.environ["PORT0"])), Echo).serve_forever()
"""


def hello(app_id: str, greeting: str = "world", instances: int = 1, **extra) -> dict:
    return {
        "id": app_id,
        "container": {"type": "DOCKER", "docker": {"image": "spinui/hello:v1"}},
        "cpus": 0.1,
        "instances": instances,
        "env": {"GREETING": greeting},
        "portDefinitions": [{"port": 0, "name": "http"}],
        **extra,
    }


READY = {
    "readinessChecks": [{"path": "/ready", "portName": "http", "intervalSeconds": 1}],
    "healthChecks": [{"protocol": "HTTP", "path": "/health", "intervalSeconds": 2}],
    # 40 s is 2 s at --time-scale 0.05: room for spinui/hello's 0.5 s drain
    "taskKillGracePeriodSeconds": 40,
}


def router_url(localdcos, cluster: str = "dev") -> str:
    return f"http://127.0.0.1:{localdcos.ports[cluster]['router']}"


def through_router(localdcos, host: str, path: str = "/", method: str = "GET", **kwargs):
    headers = {"Host": host, **kwargs.pop("headers", {})}
    return requests.request(
        method, router_url(localdcos) + path, headers=headers, timeout=10, **kwargs
    )


def answers(localdcos, host: str, path: str = "/") -> requests.Response:
    """The first answer that is not 503 (the app has no ready task yet)."""
    # a list, since a Response is falsy when its status is 4xx or 5xx
    return wait_until(
        lambda: (r := through_router(localdcos, host, path)).status_code != 503 and [r]
    )[0]


def test_an_app_without_a_rule_is_served_on_traefiks_default_host(localdcos):
    localdcos.create(hello("/dev/hello-web", "default"))
    localdcos.deployed("/dev/hello-web")
    response = answers(localdcos, "dev-hello-web.marathon.localhost")
    assert response.status_code == 200
    assert response.text == "Hello default from spinui/hello:v1\n"
    for host in ("DEV-HELLO-WEB.marathon.localhost:80", "dev-hello-web.marathon.localhost."):
        assert through_router(localdcos, host).status_code == 200


def test_the_default_rules_domain_is_configurable(tmp_path):
    server = LocalDcos(tmp_path / "localdcos", ["--router-domain", "apps.example.test"]).start()
    try:
        server.create(hello("/web", "custom"))
        server.deployed("/web")
        assert answers(server, "web.apps.example.test").status_code == 200
        assert through_router(server, "web.marathon.localhost").status_code == 404
    finally:
        server.stop()


def test_frontend_rules_match_hosts_and_path_prefixes(localdcos):
    labels = {"traefik.frontend.rule": "Host:shop.test,store.test;PathPrefix:/api"}
    localdcos.create(hello("/api", "api", labels=labels))
    localdcos.create(hello("/site", "site", labels={"traefik.frontend.rule": "Host:shop.test"}))
    localdcos.deployed("/api")
    localdcos.deployed("/site")
    assert answers(localdcos, "shop.test", "/api/v1").text.startswith("Hello api ")
    assert answers(localdcos, "store.test", "/api").text.startswith("Hello api ")
    assert answers(localdcos, "shop.test", "/about").text.startswith("Hello site ")
    assert through_router(localdcos, "store.test", "/about").status_code == 404


def test_unknown_hosts_are_404_and_traefik_enable_false_hides_an_app(localdcos):
    localdcos.create(hello("/hidden", labels={"traefik.enable": "false"}))
    localdcos.deployed("/hidden")
    for host in ("hidden.marathon.localhost", "nobody.example"):
        response = through_router(localdcos, host)
        assert response.status_code == 404
        assert response.text == "404 page not found\n"


def test_an_app_with_no_running_task_is_503(localdcos):
    localdcos.create(hello("/empty", instances=0))
    localdcos.deployed("/empty")
    response = through_router(localdcos, "empty.marathon.localhost")
    assert response.status_code == 503


def test_the_port_index_label_picks_the_tasks_port(localdcos):
    # the second port has nothing listening: the router's one attempt fails, visibly
    localdcos.create(
        hello(
            "/ports",
            labels={"traefik.portIndex": "1"},
            portDefinitions=[{"port": 0, "name": "http"}, {"port": 0, "name": "admin"}],
        )
    )
    localdcos.deployed("/ports")
    assert answers(localdcos, "ports.marathon.localhost").status_code == 502


def echo_app(localdcos, tmp_path: Path, app_id: str, labels: dict | None = None) -> None:
    script = tmp_path / "echo.py"
    script.write_text(ECHO)
    command = f"{sys.executable} {script}"
    localdcos.create({"id": app_id, "cmd": command, "cpus": 0.1, "labels": labels or {}})
    localdcos.deployed(app_id)


def test_requests_and_responses_are_proxied_unchanged_both_ways(localdcos, tmp_path: Path):
    echo_app(localdcos, tmp_path, "/echo")
    answers(localdcos, "echo.marathon.localhost")
    response = through_router(
        localdcos,
        "echo.marathon.localhost",
        "/a%20b/c?x=1&y=%2F",
        method="PUT",
        data=b'{"deploy": "v2"}',
        headers={"X-Custom": "kept", "X-Forwarded-For": "10.0.0.9", "Connection": "keep-alive"},
    )
    assert response.status_code == 201 and response.reason == "Made It"
    assert response.headers["X-Upstream"] == "echo"
    assert response.cookies.get("a") == "1" and response.cookies.get("b") == "2"
    seen = response.json()
    headers = {name.lower(): value for name, value in seen["headers"]}
    assert seen["method"] == "PUT"
    assert seen["path"] == "/a%20b/c?x=1&y=%2F"
    assert seen["body"] == '{"deploy": "v2"}'
    assert headers["host"] == "echo.marathon.localhost"
    assert headers["x-custom"] == "kept"
    assert headers["x-forwarded-for"] == "10.0.0.9, 127.0.0.1"
    assert headers["x-forwarded-host"] == "echo.marathon.localhost"
    chunked = through_router(localdcos, "echo.marathon.localhost", "/chunked", method="POST")
    assert chunked.status_code == 201 and chunked.json()["path"] == "/chunked"


def test_apps_sharing_a_backend_answer_in_the_ratio_of_weight_times_instances(localdcos):
    shared = {"traefik.backend": "shop", "traefik.frontend.rule": "Host:shop.test"}
    localdcos.create(hello("/blue", "blue", labels={**shared, "traefik.weight": "3"}))
    localdcos.create(hello("/green", "green", 2, labels={**shared, "traefik.weight": "1"}))
    localdcos.deployed("/blue")
    localdcos.deployed("/green")
    wait_until(lambda: len(localdcos.running_task_ids("/green")) == 2)
    # blue: 3 x 1 instance, green: 1 x 2 instances -> 3 : 2
    colours = Counter(answers(localdcos, "shop.test").text.split()[1] for _ in range(50))
    assert colours == {"blue": 30, "green": 20}
    metrics = requests.get(router_url(localdcos) + "/metrics", timeout=10).text
    blue = re.search(
        r'localdcos_app_requests_total\{app="/blue",backend="backendshop",code="200",'
        r'method="GET",protocol="http"\} (\d+)',
        metrics,
    )
    assert blue and int(blue.group(1)) >= 30
    assert re.search(
        r'traefik_backend_requests_total\{backend="backendshop",code="200",method="GET",'
        r'protocol="http"\} (\d+)',
        metrics,
    )
    assert 'traefik_backend_request_duration_seconds_bucket{backend="backendshop"' in metrics
    assert metrics.count('traefik_backend_server_up{backend="backendshop"') == 3


@pytest.mark.parametrize(
    "host_line",
    [
        b"Host: \r\n",
        b"",
        b"Host: " + b"a" * 20000 + b"\r\n",
        b"Host: shop.test:99999:1\r\n",
        b"Host: [::1\r\n",
        b"Host: ..\r\n",
        b"Host: \xff\xfe\r\n",
        b"Host: shop.test\r\nHost: evil.test\r\n",
        b"Host: <script>alert(1)</script>\r\n",
    ],
)
def test_hostile_host_headers_get_a_404_and_the_router_keeps_working(localdcos, host_line):
    port = localdcos.ports["dev"]["router"]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\n" + host_line + b"Connection: close\r\n\r\n")
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 404 "), reply[:200]
    assert through_router(localdcos, "nobody.test").status_code == 404


def test_a_task_leaves_the_pool_the_moment_it_is_killing(localdcos):
    localdcos.create(hello("/pair", "pair", 2, **READY))
    localdcos.deployed("/pair", timeout=30)
    answers(localdcos, "pair.marathon.localhost")

    def servers_up() -> int:
        metrics = requests.get(router_url(localdcos) + "/metrics", timeout=10).text
        return metrics.count('traefik_backend_server_up{backend="backend-pair"')

    wait_until(lambda: servers_up() == 2)
    victim, survivor = localdcos.app("/pair")["tasks"]
    response = localdcos.request("DELETE", f"/v2/apps/pair/tasks/{victim['id']}")
    assert response.status_code == 200
    states = {t["id"]: t["state"] for t in localdcos.app("/pair")["tasks"]}
    assert states[victim["id"]] == "TASK_KILLING", "still draining, for 2 s"
    assert servers_up() == 1
    metrics = requests.get(router_url(localdcos) + "/metrics", timeout=10).text
    assert f"127.0.0.1:{survivor['ports'][0]}" in metrics
    assert f"127.0.0.1:{victim['ports'][0]}" not in metrics


def test_pass_host_header_false_sends_the_servers_address_and_traefik_domain_is_per_app(
    localdcos, tmp_path: Path
):
    labels = {"traefik.frontend.passHostHeader": "false", "traefik.domain": "internal.test"}
    echo_app(localdcos, tmp_path, "/hostless", labels)
    (task,) = localdcos.app("/hostless")["tasks"]
    response = answers(localdcos, "hostless.internal.test")
    headers = {name.lower(): value for name, value in response.json()["headers"]}
    assert headers["host"] == f"127.0.0.1:{task['ports'][0]}"
    assert headers["x-forwarded-host"] == "hostless.internal.test"
    assert through_router(localdcos, "hostless.marathon.localhost").status_code == 404
