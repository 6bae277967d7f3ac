"""Fixtures for the expression tests: a realistic execution and a local HTTP server."""

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from pipelines.expressions import Environment, UrlPolicy, stage_scope

EXECUTION = {
    "id": "01JEXEC",
    "application": "web",
    "name": "Deploy web",
    "status": "RUNNING",
    "authentication": {"user": "alice@example.com"},
    "trigger": {
        "type": "docker",
        "user": "alice@example.com",
        "account": "dockerhub",
        "registry": "index.docker.io",
        "repository": "acme/web",
        "tag": "v1.4.2",
        "parameters": {
            "env": "prod",
            "replicas": "3",
            "dryRun": "false",
            "regions": "us-east-1,us-west-2",
            "canary": "true",
            "empty": "",
        },
        "buildInfo": {
            "number": 812,
            "scm": [
                {"branch": "master", "sha1": "aaa111", "name": "origin/master"},
                {"branch": "feature/login", "sha1": "bbb222", "name": "origin/feature/login"},
            ],
        },
        "artifacts": [
            {"type": "docker/image", "name": "acme/web", "reference": "acme/web:v1.4.2"},
            {"type": "github/file", "name": "deploy.yml", "reference": "https://x/deploy.yml"},
        ],
    },
    "stages": [
        {
            "id": "s-bake",
            "refId": "1",
            "name": "Bake",
            "type": "bake",
            "status": "SUCCEEDED",
            "requisiteStageRefIds": [],
            "context": {"package": "web", "baseOs": "bionic"},
            "outputs": {"imageId": "ami-123", "deploymentDetails": [{"imageId": "ami-123"}]},
        },
        {
            "id": "s-staging",
            "refId": "2",
            "name": "Deploy to staging",
            "type": "deploy",
            "status": "SUCCEEDED",
            "requisiteStageRefIds": ["1"],
            "context": {
                "account": "staging",
                "region": "dc-1",
                "capacity": {"min": 1, "max": 2, "desired": 1},
                "deploy.server.groups": {"dc-1": ["web-staging-v007"]},
                "kato.tasks": [{"resultObjects": [{"deployments": [{"id": "d1"}]}]}],
            },
            "outputs": {},
        },
        {
            "id": "s-smoke",
            "refId": "3",
            "name": "Smoke test",
            "type": "runJob",
            "status": "SUCCEEDED",
            "requisiteStageRefIds": ["2"],
            "context": {"jobStatus": {"exitCode": 0}, "propertyFileContents": {"passed": "42"}},
            "outputs": {"testsPassed": 42, "testsFailed": 0},
        },
        {
            "id": "s-load",
            "refId": "4",
            "name": "Load test",
            "type": "runJob",
            "status": "TERMINAL",
            "requisiteStageRefIds": ["2"],
            "context": {"exception": {"details": {"error": "p99 too high"}}},
            "outputs": {},
        },
        {
            "id": "s-approve",
            "refId": "5",
            "name": "Approve",
            "type": "manualJudgment",
            "status": "SUCCEEDED",
            "requisiteStageRefIds": ["3", "4"],
            "context": {"judgmentInput": "Promote", "judgmentStatus": "continue"},
            "outputs": {},
        },
        {
            "id": "s-vars",
            "refId": "6",
            "name": "Set variables",
            "type": "evaluateVariables",
            "status": "SUCCEEDED",
            "requisiteStageRefIds": ["5"],
            "context": {"variables": [{"key": "canaryPercent", "value": 10}]},
            "outputs": {"canaryPercent": 10, "releaseName": "web-r42"},
        },
        {
            "id": "s-prod",
            "refId": "7",
            "name": "Deploy to prod",
            "type": "deploy",
            "status": "RUNNING",
            "requisiteStageRefIds": ["6"],
            "context": {
                "account": "prod",
                "cluster": "web-main",
                "instances": 3,
                "canaryPercent": 5,
                "labels": {"team": "payments", "tier": "frontend"},
                "ports": [8080, 9090],
                "healthChecks": [],
                "message": "  hello world  ",
                "ratio": 2.5,
                "enabled": True,
                "nothing": None,
            },
            "outputs": {},
        },
    ],
}


def prod_stage_root() -> dict:
    execution = copy.deepcopy(EXECUTION)
    return stage_scope(execution["stages"][-1], execution)


@pytest.fixture
def root() -> dict:
    return prod_stage_root()


@pytest.fixture
def environment() -> Environment:
    return Environment(current_stage_id="s-prod")


class RecordingServer:
    """A local HTTP server on a free port that records every request it receives."""

    def __init__(self, routes: dict) -> None:
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                server.hits.append(self.path)
                path = urlsplit(self.path).path
                query = parse_qs(urlsplit(self.path).query)
                if path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", query["to"][0])
                    self.end_headers()
                    return
                if path not in server.routes:
                    self.send_response(404)
                    self.end_headers()
                    return
                content_type, body = server.routes[path]
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.routes = routes
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> "RecordingServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


CONFIG_ROUTES = {
    "/config.json": (
        "application/json",
        json.dumps({"replicas": 4, "image": {"tag": "v9"}, "regions": ["dc-1", "dc-2"]}).encode(),
    ),
    "/list.json": ("application/json", b'[{"name": "a"}, {"name": "b"}]'),
    "/config.yaml": ("text/yaml", b"replicas: 5\nlabels:\n  team: payments\nenabled: yes\n"),
    "/app.properties": (
        "text/plain",
        b"# comment\nversion=1.2.3\nname : web\nmulti = one \\\n  two\nempty=\n",
    ),
    "/version.txt": ("text/plain; charset=utf-8", b"v2.0.1\n"),
    "/big": ("text/plain", b"x" * 300_000),
}


@pytest.fixture
def config_server():
    with RecordingServer(CONFIG_ROUTES) as server:
        yield server


@pytest.fixture
def trap_server():
    """A server nothing may reach: tests assert it recorded no request."""
    with RecordingServer({"/": ("text/plain", b"secret")}) as server:
        yield server


def allowing(*entries: str, **kwargs) -> Environment:
    return Environment(
        current_stage_id="s-prod", url_policy=UrlPolicy.from_strings(list(entries), **kwargs)
    )
