"""python -m localdcos --cluster dev=18080:18880 --cluster prod=18081:18881 [...]"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from .api import MarathonApi
from .auth import Auth
from .cluster import Agent, Cluster, Options
from .router import DEFAULT_DOMAIN, Router
from .watchdog import kill_leftovers
from .web import start_server

log = logging.getLogger("localdcos")
CLUSTER_NAME = re.compile(r"^[a-z0-9]+(-+[a-z0-9]+)*$")


def cluster_argument(value: str) -> tuple[str, int, int]:
    name, _, ports = value.partition("=")
    admin, _, router = ports.partition(":")
    if not CLUSTER_NAME.fullmatch(name) or not admin.isdigit() or not router.isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=ADMIN_PORT:ROUTER_PORT, got {value!r}")
    return name, int(admin), int(router)


def pair_argument(value: str) -> tuple[str, str]:
    key, _, rest = value.partition("=")
    if not key or not rest:
        raise argparse.ArgumentTypeError(f"expected UID=VALUE, got {value!r}")
    return key, rest


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="localdcos", description=__doc__)
    parser.add_argument("--cluster", action="append", type=cluster_argument, required=True)
    parser.add_argument("--registry", help="Docker Registry v2 base URL for images")
    parser.add_argument(
        "--service-account",
        action="append",
        type=pair_argument,
        default=[],
        metavar="UID=PUBLIC_KEY.pem",
    )
    parser.add_argument(
        "--user", action="append", type=pair_argument, default=[], metavar="UID=PASSWORD"
    )
    parser.add_argument("--token-ttl", type=float, default=5 * 24 * 3600)
    parser.add_argument("--max-tasks", type=int, default=200)
    parser.add_argument("--work-dir", type=Path, default=Path("var/localdcos"))
    parser.add_argument(
        "--tick",
        type=float,
        default=0.1,
        help="scheduler period in seconds (it also wakes on every change)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiplies health, readiness, backoff and kill-grace durations",
    )
    parser.add_argument(
        "--start-seconds",
        type=float,
        default=0.2,
        help="how long a process must stay up before it is TASK_RUNNING",
    )
    parser.add_argument(
        "--router-domain",
        default=DEFAULT_DOMAIN,
        help="the domain of Traefik's default frontend rule Host:<app-id>.<domain>",
    )
    parser.add_argument(
        "--router-exposed-by-default",
        choices=("true", "false"),
        default="true",
        help="whether apps without traefik.enable are routed (Traefik's exposedByDefault)",
    )
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def start_watchdog(work_dir: Path) -> subprocess.Popen:
    read_end, write_end = os.pipe()
    package_root = str(Path(__file__).resolve().parent.parent)
    watchdog = subprocess.Popen(
        [sys.executable, "-m", "localdcos.watchdog", str(work_dir / "task-pids"), str(work_dir)],
        stdin=read_end,
        env={**os.environ, "PYTHONPATH": package_root},
        start_new_session=True,
    )
    os.close(read_end)
    # The write end stays open (and uninherited) for as long as this process lives.
    start_watchdog.keep = write_end  # type: ignore[attr-defined]
    return watchdog


async def serve(args: argparse.Namespace) -> None:
    work_dir = args.work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    ended = kill_leftovers(work_dir / "task-pids", work_dir)
    if ended:
        log.warning("ended %d task process groups left by a previous run", ended)
    watchdog = start_watchdog(work_dir)
    options = Options(
        work_dir=work_dir,
        registry=args.registry,
        max_tasks=args.max_tasks,
        tick=args.tick,
        time_scale=args.time_scale,
        start_seconds=args.start_seconds,
    )
    agent = Agent(options)
    accounts = {uid: Path(path).read_text() for uid, path in args.service_account}
    auth = Auth(accounts, dict(args.user), args.token_ttl, work_dir / "auth-key.pem")
    clusters: list[Cluster] = []
    servers: list[asyncio.Server] = []
    routers: list[Router] = []
    ports: dict[str, dict[str, int]] = {}
    for name, admin_port, router_port in args.cluster:
        cluster = Cluster(name, options, agent)
        cluster.load()
        api = MarathonApi(cluster, auth)
        admin = await start_server("127.0.0.1", admin_port, api.handle)
        traffic = Router(cluster, args.router_domain, args.router_exposed_by_default == "true")
        routers.append(traffic)
        router = await start_server("127.0.0.1", router_port, traffic.handle)
        cluster.port = admin.sockets[0].getsockname()[1]
        cluster.router_port = router.sockets[0].getsockname()[1]
        ports[name] = {"admin": cluster.port, "router": cluster.router_port}
        clusters.append(cluster)
        servers += [admin, router]
    (work_dir / "ports.json").write_text(json.dumps(ports))
    print(json.dumps(ports), flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(signum, stop.set)
    schedulers = [loop.create_task(cluster.run()) for cluster in clusters]
    await stop.wait()
    log.info("stopping: ending every task")
    for server in servers:
        server.close()
    await asyncio.gather(*(cluster.stop() for cluster in clusters))
    await asyncio.gather(*(traffic.close() for traffic in routers))
    for job in schedulers:
        job.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await job
    os.close(start_watchdog.keep)  # type: ignore[attr-defined]
    watchdog.wait(timeout=10)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
