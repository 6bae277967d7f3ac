"""The engine's clock; tests replace `source` so windows and timeouts need no sleeping."""

from datetime import datetime

from django.utils import timezone

source = timezone.now


def now() -> datetime:
    return source()


def epoch_ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None
