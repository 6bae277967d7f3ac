"""python manage.py watch_dcos: keep the infrastructure cache fresh from Marathon's events."""

import signal
import threading

from django.core.management.base import BaseCommand

from spinui.watcher import Watchers


class Command(BaseCommand):
    help = (
        "Follow /v2/events of every region and refresh the server groups each event names. "
        "Reconnects with backoff; safe to run several copies."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--resync-seconds",
            type=float,
            default=10.0,
            help="how often to look for added, changed or deleted regions",
        )

    def handle(self, *args, resync_seconds: float, **options) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write("watching the events of every region; Ctrl-C stops")
        Watchers(stop).run(resync_seconds)
