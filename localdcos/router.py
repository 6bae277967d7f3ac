"""A Traefik 1.7-style router on a cluster's router port (reference §4, Marathon provider).

Frontends and backends come from the apps' `traefik.*` labels; a backend's servers are the
TASK_RUNNING (and, with readiness checks, ready) tasks of every app sharing it, balanced by
smooth weighted round robin. The table is rebuilt whenever the cluster's revision moves, so a
task leaves its pool the moment it is TASK_KILLING. A request is never retried on another
server: a failure is the client's to see.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field

from .cluster import Cluster
from .tasks import HOST
from .web import Request, Response

log = logging.getLogger("localdcos.router")

DEFAULT_DOMAIN = "marathon.localhost"
CONNECT_TIMEOUT = 5.0
RESPONSE_TIMEOUT = 60.0
MAX_RESPONSE_HEAD = 64 * 1024
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
# below spinui/hello's 1 s keep-alive timeout, so a pooled connection is never one the
# server is closing at that moment
POOL_IDLE_SECONDS = 0.5
POOL_SIZE = 32
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}
IDEMPOTENT = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"}
NOT_ALPHANUMERIC = re.compile(r"[^0-9A-Za-z]+")
# Prometheus's default buckets: fine enough for a canary's latency comparison
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def normalize(name: str) -> str:
    """Traefik's provider.Normalize: runs of anything but letters and digits become '-'."""
    return "-".join(part for part in NOT_ALPHANUMERIC.split(name) if part)


def request_host(headers: dict[str, str]) -> str:
    """The Host header's name, lower case, without a port; '' when absent or unusable."""
    host = headers.get("host", "").strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end > 0 else ""
    name, _, port = host.rpartition(":")
    if name and port.isdigit():
        host = name
    return host.rstrip(".")


@dataclass
class Server:
    name: str
    app_id: str
    task_id: str
    port: int
    weight: int
    current: int = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


@dataclass
class Backend:
    name: str
    servers: list[Server] = field(default_factory=list)

    def pick(self) -> Server | None:
        """Smooth weighted round robin (as nginx): each server gets its weight's share, spread
        evenly."""
        if not self.servers:
            return None
        total = 0
        best = None
        for server in self.servers:
            server.current += server.weight
            total += server.weight
            if best is None or server.current > best.current:
                best = server
        assert best is not None
        best.current -= total
        return best


@dataclass
class Frontend:
    app_id: str
    rule: str
    backend: str
    priority: int
    hosts: list[str] | None = None
    path_prefixes: list[str] | None = None
    paths: list[str] | None = None
    valid: bool = True
    pass_host: bool = True

    def matches(self, host: str, path: str) -> bool:
        if not self.valid:
            return False
        if self.hosts is not None and host not in self.hosts:
            return False
        if self.path_prefixes is not None and not any(
            path.startswith(p) for p in self.path_prefixes
        ):
            return False
        return self.paths is None or path in self.paths


def parse_rule(frontend: Frontend) -> None:
    """`Host:a,b;PathPrefix:/x` -- every matcher must match; values within one are
    alternatives."""
    for part in frontend.rule.split(";"):
        matcher, _, values = part.strip().partition(":")
        options = [v.strip() for v in values.split(",") if v.strip()]
        if not options:
            frontend.valid = False
        elif matcher == "Host":
            frontend.hosts = [h.lower().rstrip(".") for h in options]
        elif matcher == "PathPrefix":
            frontend.path_prefixes = options
        elif matcher == "Path":
            frontend.paths = options
        else:
            # Traefik skips a frontend whose rule it cannot parse; so does this router
            frontend.valid = False


class Histogram:
    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds


class Metrics:
    """Traefik 1.7's Prometheus series, plus per-app series for canary analysis."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, tuple], int] = defaultdict(int)
        self.durations: dict[tuple[str, tuple], Histogram] = {}

    def record(self, backend: str, app_id: str, method: str, code: int, seconds: float) -> None:
        entry = (("code", str(code)), ("method", method), ("protocol", "http"))
        series = [("traefik_entrypoint", (("entrypoint", "http"), *entry))]
        if backend:
            series.append(("traefik_backend", (("backend", backend), *entry)))
        if app_id:
            series.append(("localdcos_app", (("app", app_id), ("backend", backend), *entry)))
        for name, labels in series:
            self.requests[(name, labels)] += 1
            histogram = self.durations.get((name, labels))
            if histogram is None:
                histogram = self.durations[(name, labels)] = Histogram()
            histogram.observe(seconds)

    def render(self, backends: dict[str, Backend]) -> str:
        lines = []
        for name in ("traefik_entrypoint", "traefik_backend", "localdcos_app"):
            lines.append(f"# HELP {name}_requests_total How many HTTP requests were processed.")
            lines.append(f"# TYPE {name}_requests_total counter")
            for (series, labels), count in sorted(self.requests.items()):
                if series == name:
                    lines.append(f"{name}_requests_total{{{_labels(labels)}}} {count}")
            lines.append(f"# HELP {name}_request_duration_seconds How long HTTP requests took.")
            lines.append(f"# TYPE {name}_request_duration_seconds histogram")
            for (series, labels), histogram in sorted(self.durations.items()):
                if series != name:
                    continue
                running = 0
                for bound, count in zip(
                    [*map(str, BUCKETS), "+Inf"], histogram.counts, strict=True
                ):
                    running += count
                    bucket = _labels((*labels, ("le", bound)))
                    lines.append(f"{name}_request_duration_seconds_bucket{{{bucket}}} {running}")
                lines.append(
                    f"{name}_request_duration_seconds_sum{{{_labels(labels)}}} {histogram.total}"
                )
                lines.append(
                    f"{name}_request_duration_seconds_count{{{_labels(labels)}}} {running}"
                )
        lines.append("# HELP traefik_backend_server_up Backend server is up (1) or not (0).")
        lines.append("# TYPE traefik_backend_server_up gauge")
        for backend in sorted(backends.values(), key=lambda b: b.name):
            for server in backend.servers:
                labels = (("backend", backend.name), ("url", server.url))
                lines.append(f"traefik_backend_server_up{{{_labels(labels)}}} 1")
        return "\n".join(lines) + "\n"


def _labels(pairs) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return ",".join(f'{key}="{escape(value)}"' for key, value in pairs)


class UpstreamError(Exception):
    def __init__(self, status: int, reused: bool = False, sent: bool = True):
        self.status = status
        self.reused = reused
        self.sent = sent


def text(status: int, body: str) -> Response:
    return Response(status, body.encode(), {"Content-Type": "text/plain; charset=utf-8"})


class Router:
    def __init__(
        self, cluster: Cluster, domain: str = DEFAULT_DOMAIN, exposed_by_default: bool = True
    ):
        self.cluster = cluster
        self.domain = domain.strip(".").lower()
        self.exposed_by_default = exposed_by_default
        self.frontends: list[Frontend] = []
        self.backends: dict[str, Backend] = {}
        self.metrics = Metrics()
        self._revision = -1
        self._pool: dict[int, list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]]] = {}

    # ---- the routing table -------------------------------------------------------------

    def refresh(self) -> None:
        if self._revision == self.cluster.revision:
            return
        self._revision = self.cluster.revision
        previous = {
            server.name: server for backend in self.backends.values() for server in backend.servers
        }
        frontends: list[Frontend] = []
        backends: dict[str, Backend] = {}
        for app in self.cluster.apps.values():
            labels = app.spec["labels"]
            enable = labels.get("traefik.enable", "").lower()
            if enable == "false" or (not self.exposed_by_default and enable != "true"):
                continue
            shared = labels.get("traefik.backend")
            backend_name = normalize("backend" + (shared if shared else app.id))
            rule = labels.get("traefik.frontend.rule")
            if not rule:
                domain = labels.get("traefik.domain", self.domain).strip(".").lower()
                rule = f"Host:{app.id.strip('/').replace('/', '-')}.{domain}"
            try:
                priority = int(labels.get("traefik.frontend.priority", "0"))
            except ValueError:
                priority = 0
            frontend = Frontend(app.id, rule, backend_name, priority)
            frontend.pass_host = labels.get("traefik.frontend.passHostHeader", "") != "false"
            parse_rule(frontend)
            frontends.append(frontend)
            backend = backends.setdefault(backend_name, Backend(backend_name))
            backend.servers += self._servers(app, previous)
        # as Traefik: a higher priority first, then the longer (more specific) rule
        frontends.sort(key=lambda f: (-f.priority, -len(f.rule)))
        self.frontends = frontends
        self.backends = backends
        ports = {s.port for b in backends.values() for s in b.servers}
        for port in list(self._pool):
            if port not in ports:
                # a server that left the pool gets its idle connections back, so it can drain
                for _, writer, _ in self._pool.pop(port):
                    writer.close()

    def _servers(self, app, previous: dict[str, Server]) -> list[Server]:
        labels = app.spec["labels"]
        try:
            weight = int(labels.get("traefik.weight", "1"))
        except ValueError:
            weight = 1
        if weight <= 0:
            return []
        checks = app.spec["readinessChecks"]
        servers = []
        for task in app.tasks.values():
            if task.state != "TASK_RUNNING" or not task.is_ready(checks):
                continue
            port = self._port(labels, task.ports)
            if port is None:
                continue
            name = normalize(f"server-{app.id}-{task.id}")
            server = Server(name, app.id, task.id, port, weight)
            if name in previous:
                server.current = previous[name].current
            servers.append(server)
        return servers

    @staticmethod
    def _port(labels: dict[str, str], ports: list[int]) -> int | None:
        if "traefik.port" in labels:
            try:
                port = int(labels["traefik.port"])
            except ValueError:
                return None
            return port if port > 0 else None
        try:
            index = int(labels.get("traefik.portIndex", "0"))
        except ValueError:
            index = 0  # Traefik reads a label that is not a number as its default
        return ports[index] if 0 <= index < len(ports) else None

    def route(self, request: Request) -> Frontend | None:
        host = request_host(request.headers)
        for frontend in self.frontends:
            if frontend.matches(host, request.path):
                return frontend
        return None

    # ---- requests ----------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        self.refresh()
        frontend = self.route(request)
        if frontend is None:
            if request.path == "/metrics" and request.method == "GET":
                return Response(
                    200,
                    self.metrics.render(self.backends).encode(),
                    {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
                )
            response = text(404, "404 page not found\n")
            self.metrics.record("", "", request.method, 404, time.perf_counter() - started)
            return response
        backend = self.backends[frontend.backend]
        server = backend.pick()
        if server is None:
            response = text(503, "Service Unavailable")
            app_id = frontend.app_id
        else:
            app_id = server.app_id
            try:
                response = await self.forward(request, server, frontend.pass_host)
            except UpstreamError as error:
                response = text(
                    error.status, "Bad Gateway" if error.status == 502 else "Gateway Timeout"
                )
        self.metrics.record(
            backend.name, app_id, request.method, response.status, time.perf_counter() - started
        )
        return response

    async def forward(self, request: Request, server: Server, pass_host: bool) -> Response:
        head = self._request_head(request, server, pass_host)
        try:
            return await self._exchange(server.port, head, request)
        except UpstreamError as error:
            # as Go's transport: a pooled connection the server had closed before anything
            # was read is replaced once, on the same server; never on another one
            if error.reused and not error.sent and request.method in IDEMPOTENT:
                return await self._exchange(server.port, head, request, fresh=True)
            raise

    def _request_head(self, request: Request, server: Server, pass_host: bool) -> bytes:
        lines = [f"{request.method} {request.target or '/'} HTTP/1.1"]
        if not pass_host or "host" not in request.headers:
            lines.append(f"Host: {HOST}:{server.port}")
        forwarded_for = None
        for name, value in request.header_list:
            lower = name.lower()
            # the body is already here, so a 100-continue handshake has no place upstream
            if lower in HOP_BY_HOP or lower == "expect" or (lower == "host" and not pass_host):
                continue
            if lower == "x-forwarded-for":
                forwarded_for = value
                continue
            lines.append(f"{name}: {value}")
        client = request.client_ip
        lines.append(
            f"X-Forwarded-For: {forwarded_for + ', ' + client if forwarded_for else client}"
        )
        if "x-forwarded-host" not in request.headers:
            lines.append(f"X-Forwarded-Host: {request.headers.get('host', '')}")
        if "x-forwarded-proto" not in request.headers:
            lines.append("X-Forwarded-Proto: http")
        lines.append(f"X-Forwarded-Server: localdcos-{self.cluster.name}")
        lines.append(f"X-Real-Ip: {client}")
        if request.body or request.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(request.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _connect(self, port: int, fresh: bool):
        idle = self._pool.get(port)
        now = time.monotonic()
        while idle and not fresh:
            reader, writer, since = idle.pop()
            if now - since < POOL_IDLE_SECONDS and not reader.at_eof():
                return reader, writer, True
            writer.close()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(HOST, port, limit=MAX_RESPONSE_HEAD), CONNECT_TIMEOUT
            )
        except TimeoutError:
            raise UpstreamError(504, sent=False) from None
        except OSError:
            raise UpstreamError(502, sent=False) from None
        return reader, writer, False

    async def _exchange(
        self, port: int, head: bytes, request: Request, fresh: bool = False
    ) -> Response:
        reader, writer, reused = await self._connect(port, fresh)
        keep = False
        received = False
        try:
            writer.write(head + request.body)
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), RESPONSE_TIMEOUT)
            if not status_line:
                raise UpstreamError(502, reused=reused, sent=False)
            received = True
            response, keep = await asyncio.wait_for(
                self._read_response(status_line, reader, request.method), RESPONSE_TIMEOUT
            )
            return response
        except TimeoutError:
            raise UpstreamError(504) from None
        except UpstreamError:
            raise
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            raise UpstreamError(502, reused=reused, sent=received) from None
        finally:
            if keep and self._keeps(port):
                self._pool.setdefault(port, []).append((reader, writer, time.monotonic()))
            else:
                writer.close()

    def _keeps(self, port: int) -> bool:
        """Only a server still in a pool keeps idle connections, and only a few."""
        in_pool = any(s.port == port for b in self.backends.values() for s in b.servers)
        return in_pool and len(self._pool.get(port, [])) < POOL_SIZE

    async def _read_response(
        self, status_line: bytes, reader: asyncio.StreamReader, method: str
    ) -> tuple[Response, bool]:
        version, _, rest = status_line.decode("latin-1").rstrip("\r\n").partition(" ")
        code_text, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or not code_text.isdigit():
            raise ValueError(status_line)
        status = int(code_text)
        head = await reader.readuntil(b"\r\n\r\n")
        headers: dict[str, str] = {}
        header_list: list[tuple[str, str]] = []
        lowered: dict[str, str] = {}
        for line in head.decode("latin-1").split("\r\n"):
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip(), value.strip()
            lowered[name.lower()] = value
            if name.lower() in HOP_BY_HOP:
                continue
            if name in headers:
                header_list.append((name, value))
            else:
                headers[name] = value
        keep = version == "HTTP/1.1" and lowered.get("connection", "").lower() != "close"
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in lowered.get("transfer-encoding", "").lower():
            body = await _read_chunked(reader)
        elif "content-length" in lowered:
            length = int(lowered["content-length"])
            if length > MAX_RESPONSE_BYTES:
                raise ValueError("response too large")
            body = await reader.readexactly(length)
        else:
            body = await reader.read(MAX_RESPONSE_BYTES)
            keep = False
        return Response(status, body, headers, header_list, reason), keep

    async def close(self) -> None:
        for connections in self._pool.values():
            for _, writer, _ in connections:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
        self._pool.clear()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readline()).split(b";")[0].strip(), 16)
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            return bytes(body)
        if len(body) + size > MAX_RESPONSE_BYTES:
            raise ValueError("response too large")
        body += await reader.readexactly(size)
        await reader.readline()
