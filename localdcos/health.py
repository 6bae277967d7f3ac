"""Health and readiness probes: real HTTP(S), TCP and shell checks against a task's ports."""

from __future__ import annotations

import asyncio
import ssl

from .tasks import HOST, Task

_INSECURE = ssl.create_default_context()
_INSECURE.check_hostname = False
_INSECURE.verify_mode = ssl.CERT_NONE


async def http_get(port: int, path: str, timeout: float, tls: bool) -> tuple[int, str, bytes]:
    """(status, content type, body) of one GET; raises OSError or TimeoutError."""

    async def fetch() -> tuple[int, str, bytes]:
        reader, writer = await asyncio.open_connection(HOST, port, ssl=_INSECURE if tls else None)
        try:
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: localdcos\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            await writer.drain()
            raw = await reader.read(-1)
        finally:
            writer.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        content_type = ""
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-type":
                content_type = value.strip()
        return status, content_type, body

    return await asyncio.wait_for(fetch(), timeout)


async def probe(check: dict, task: Task, timeout: float) -> tuple[bool, str]:
    """(passed, cause) of one health check run."""
    protocol = check["protocol"]
    try:
        if protocol == "COMMAND":
            process = await asyncio.create_subprocess_exec(
                "/bin/sh",
                "-c",
                check["command"]["value"],
                cwd=task.sandbox,
                env=task.env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                code = await asyncio.wait_for(process.wait(), timeout)
            except TimeoutError:
                process.kill()
                await process.wait()
                return False, "Command timed out"
            return code == 0, "" if code == 0 else f"Command exited with status {code}"
        port = check.get("port") or task.ports[check.get("portIndex", 0)]
        if protocol in ("TCP", "MESOS_TCP"):
            _, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
            writer.close()
            return True, ""
        status, _, _ = await http_get(
            port, check.get("path", "/"), timeout, protocol in ("HTTPS", "MESOS_HTTPS")
        )
        if 200 <= status < 400:
            return True, ""
        return False, f"HTTP {status}"
    except TimeoutError:
        return False, "Timed out"
    except (OSError, ValueError, IndexError) as error:
        return False, f"{type(error).__name__}: {error}"
