"""A small HTTP/1.1 server on asyncio streams: keep-alive, bounded bodies, SSE via chunks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger("localdcos.web")

MAX_HEADER_BYTES = 64 * 1024
# Admin Router (nginx) refuses bodies over its client_max_body_size with 413.
MAX_BODY_BYTES = 1024 * 1024

REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    301: "Moved Permanently",
    307: "Temporary Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    411: "Length Required",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    client_ip: str
    raw_uri: str = ""
    # the request target as sent (path and query, still encoded) and every header in order,
    # for the router, which forwards them unchanged
    target: str = ""
    header_list: list[tuple[str, str]] = field(default_factory=list)

    def flag(self, name: str, default: bool = False) -> bool:
        """A query boolean, case-insensitive as Marathon parses them (`True`, `true`)."""
        values = self.query.get(name)
        if not values:
            return default
        return values[-1].strip().lower() == "true"


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # headers that may repeat (Set-Cookie from a proxied server), written after `headers`
    header_list: list[tuple[str, str]] = field(default_factory=list)
    # a proxied server's own reason phrase; else the standard one
    reason: str = ""


class StreamResponse:
    """A response the handler writes itself in chunks (server-sent events)."""

    def __init__(self, run: Callable[[StreamWriter], Awaitable[None]], content_type: str):
        self.run = run
        self.content_type = content_type


class StreamWriter:
    def __init__(self, writer: asyncio.StreamWriter, reader: asyncio.StreamReader):
        self._writer = writer
        self._reader = reader

    async def send(self, data: bytes) -> None:
        self._writer.write(b"%x\r\n%s\r\n" % (len(data), data))
        await self._writer.drain()

    async def closed(self) -> None:
        """Returns when the client goes away."""
        while await self._reader.read(4096):
            pass


def json_response(status: int, payload, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    return Response(status, body, all_headers)


def nginx_error(status: int) -> Response:
    """The HTML page nginx (Admin Router) gives for errors it produces itself."""
    title = f"{status} {REASONS.get(status, '')}"
    body = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>openresty</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()
    return Response(status, body, {"Content-Type": "text/html"})


Handler = Callable[[Request], Awaitable["Response | StreamResponse"]]


class BadRequest(Exception):
    def __init__(self, status: int):
        self.status = status


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size_line = await reader.readline()
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                raise BadRequest(400) from None
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY_BYTES:
                raise BadRequest(413)
            body += await reader.readexactly(size)
            await reader.readline()
    length_text = headers.get("content-length", "0").strip() or "0"
    if not length_text.isdigit():
        raise BadRequest(400)
    length = int(length_text)
    if length > MAX_BODY_BYTES:
        raise BadRequest(413)
    return await reader.readexactly(length) if length else b""


async def _write_response(writer: asyncio.StreamWriter, response: Response, keep: bool) -> None:
    reason = response.reason or REASONS.get(response.status, "Unknown")
    lines = [f"HTTP/1.1 {response.status} {reason}"]
    headers = {"Server": "localdcos", **response.headers}
    headers["Content-Length"] = str(len(response.body))
    if not keep:
        headers["Connection"] = "close"
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"{name}: {value}" for name, value in response.header_list]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body)
    await writer.drain()


async def _serve_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: Handler
) -> None:
    peer = writer.get_extra_info("peername")
    client_ip = peer[0] if peer else "127.0.0.1"
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                await _write_response(writer, nginx_error(400), keep=False)
                return
            except asyncio.IncompleteReadError:
                return
            try:
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                method, target, version = request_line.split(" ")
                if not version.startswith("HTTP/1."):
                    raise ValueError(version)
                headers: dict[str, str] = {}
                header_list: list[tuple[str, str]] = []
                for line in header_lines:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                        header_list.append((name.strip(), value.strip()))
            except ValueError:
                await _write_response(writer, nginx_error(400), keep=False)
                return
            try:
                body = await _read_body(reader, headers)
            except BadRequest as error:
                await _write_response(writer, nginx_error(error.status), keep=False)
                return
            keep = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
            split = urlsplit(target)
            request = Request(
                method=method.upper(),
                path=unquote(split.path) or "/",
                query=parse_qs(split.query, keep_blank_values=True),
                headers=headers,
                body=body,
                client_ip=client_ip,
                raw_uri=split.path,
                target=target,
                header_list=header_list,
            )
            try:
                response = await handler(request)
            except Exception:
                log.exception("request %s %s failed", method, target)
                response = json_response(500, {"message": "Internal server error"})
            if isinstance(response, StreamResponse):
                writer.write(
                    (
                        "HTTP/1.1 200 OK\r\nServer: localdcos\r\n"
                        f"Content-Type: {response.content_type}\r\n"
                        "Cache-Control: no-cache, no-store\r\nTransfer-Encoding: chunked\r\n"
                        "Connection: close\r\n\r\n"
                    ).encode()
                )
                await writer.drain()
                await response.run(StreamWriter(writer, reader))
                return
            await _write_response(writer, response, keep)
            if not keep:
                return
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()


async def start_server(host: str, port: int, handler: Handler) -> asyncio.Server:
    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # An idle keep-alive connection is cancelled at shutdown; that is not an error.
        with contextlib.suppress(asyncio.CancelledError):
            await _serve_connection(reader, writer, handler)

    return await asyncio.start_server(on_connection, host, port, limit=MAX_HEADER_BYTES)
