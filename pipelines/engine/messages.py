"""Messages only say "look at this now"; they go out when the transaction commits.

A wake-up further away than SPINUI_ENGINE_MAX_COUNTDOWN seconds is not sent at all: it is the
stage's `wake_at`, which the sweeper fires (a broker may redeliver long countdowns early).
"""

from collections.abc import Callable

from django.conf import settings
from django.db import transaction


def _send_with_celery(name: str, args: tuple, delay: float) -> None:
    from pipelines import tasks

    getattr(tasks, name).apply_async(args, countdown=delay if delay > 0 else None)


sender: Callable[[str, tuple, float], None] = _send_with_celery


def send(name: str, *args, delay: float = 0.0) -> None:
    if delay > settings.SPINUI_ENGINE_MAX_COUNTDOWN:
        return
    transaction.on_commit(lambda: sender(name, args, delay))
