"""localdcos router benchmark: latency the router adds, and requests per second through it.

Run from the repository root: python bench/localdcos_router_bench.py   (prints one JSON object)

It starts localdcos on free ports at its real defaults, deploys two `spinui/hello` instances
behind the router, then on loopback only:
- overhead: the same keep-alive client sends SEQUENTIAL requests straight to one task and
  through the router; the router's cost is the difference of the medians;
- throughput: CONCURRENCY keep-alive connections send as fast as answers come back for
  DURATION seconds, through the router.
Every loop is bounded by a request count or a deadline.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
SEQUENTIAL = 2000
WARMUP = 200
CONCURRENCY = 16
DURATION = 5.0
HOST = "hello.marathon.localhost"


def latencies(port: int, host: str, count: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    found = []
    try:
        for index in range(WARMUP + count):
            started = time.perf_counter()
            connection.request("GET", "/", headers={"Host": host})
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
            if index >= WARMUP:
                found.append((time.perf_counter() - started) * 1000)
    finally:
        connection.close()
    return found


async def throughput(port: int) -> dict:
    request = f"GET / HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
    deadline = time.monotonic() + DURATION
    done = 0
    errors = 0

    async def client() -> None:
        nonlocal done, errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.monotonic() < deadline:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                if head.startswith(b"HTTP/1.1 200 "):
                    done += 1
                else:
                    errors += 1
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    elapsed = time.monotonic() - started
    return {
        "requests": done,
        "errors": errors,
        "seconds": round(elapsed, 2),
        "requests_per_second": round(done / elapsed),
    }


def main() -> None:
    work_dir = Path(tempfile.mkdtemp(prefix="localdcos-router-bench-"))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localdcos",
            "--cluster",
            "dev=0:0",
            "--work-dir",
            str(work_dir),
            "--log-level",
            "WARNING",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready, "localdcos printed no ports"
        ports = json.loads(process.stdout.readline())["dev"]
        admin = f"http://127.0.0.1:{ports['admin']}"
        app = {
            "id": "/hello",
            "container": {"type": "DOCKER", "docker": {"image": "spinui/hello:bench"}},
            "cpus": 0.1,
            "instances": 2,
            "portDefinitions": [{"port": 0, "name": "http"}],
            "readinessChecks": [{"path": "/ready", "portName": "http", "intervalSeconds": 1}],
        }
        assert requests.post(f"{admin}/v2/apps", json=app, timeout=10).status_code == 201
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            info = requests.get(f"{admin}/v2/apps/hello", timeout=10).json()["app"]
            if not info["deployments"]:
                break
            time.sleep(0.2)
        task_port = info["tasks"][0]["ports"][0]
        direct = latencies(task_port, HOST, SEQUENTIAL)
        routed = latencies(ports["router"], HOST, SEQUENTIAL)
        load = asyncio.run(throughput(ports["router"]))
        direct_median = statistics.median(direct)
        routed_median = statistics.median(routed)
        result = {
            "sequential_requests": SEQUENTIAL,
            "direct_median_ms": round(direct_median, 3),
            "router_median_ms": round(routed_median, 3),
            "router_added_median_ms": round(routed_median - direct_median, 3),
            "direct_p95_ms": round(statistics.quantiles(direct, n=20)[18], 3),
            "router_p95_ms": round(statistics.quantiles(routed, n=20)[18], 3),
            "throughput": {"concurrency": CONCURRENCY, **load},
        }
        print(json.dumps(result, indent=2))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
