"""The demo image `spinui/hello:<tag>`: a tiny HTTP server on PORT0 (stdlib only)."""

import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ready = threading.Event()


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # An idle keep-alive connection must not hold up a drain for long.
    timeout = 1.0
    # Headers and body go out in separate writes; with Nagle on, a keep-alive client's
    # delayed ACK would hold the body back ~40 ms.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.startswith("/health"):
            failing = os.environ.get("FAIL_HEALTH") == "1"
            self._answer(500 if failing else 200, "unhealthy\n" if failing else "healthy\n")
        elif self.path.startswith("/ready"):
            self._answer(
                200 if ready.is_set() else 503, "ready\n" if ready.is_set() else "draining\n"
            )
        else:
            greeting = os.environ.get("GREETING", "world")
            tag = os.environ.get("IMAGE_TAG", "latest")
            self._answer(200, f"Hello {greeting} from spinui/hello:{tag}\n")

    def _answer(self, status: int, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if not ready.is_set():
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
        sys.stdout.write(f"{self.address_string()} {format % args}\n")
        sys.stdout.flush()


def main() -> None:
    if os.environ.get("CRASH_ON_START") == "1":
        sys.stderr.write("CRASH_ON_START=1: exiting at once\n")
        sys.exit(1)
    port = int(os.environ.get("PORT0") or os.environ.get("PORT") or "8080")
    server = ThreadingHTTPServer((os.environ.get("HOST", "127.0.0.1"), port), Hello)
    server.daemon_threads = False

    # After SIGTERM it goes on answering for a moment (503 on /ready, Connection: close), as a
    # well-behaved app does: a router that picked this task just before the kill still gets
    # its answer instead of a reset.
    drain_seconds = float(os.environ.get("DRAIN_SECONDS", "0.5"))

    def drain(signum, frame) -> None:
        ready.clear()
        # shutdown() waits for serve_forever, so it must run off the main thread.
        threading.Timer(drain_seconds, server.shutdown).start()

    signal.signal(signal.SIGTERM, drain)
    ready.set()
    print(f"spinui/hello:{os.environ.get('IMAGE_TAG', 'latest')} listening on {port}", flush=True)
    server.serve_forever(poll_interval=0.1)
    server.server_close()  # joins the requests still being served
    print("drained, exiting", flush=True)


if __name__ == "__main__":
    main()
