"""Marathon's event stream for the benchmarks: each event with Marathon's own timestamp."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime


def marathon_events(
    url: str, event_type: str, stop: threading.Event
) -> Iterator[tuple[dict, float]]:
    """(event, its timestamp in epoch seconds) of EVENT_TYPE from URL's /v2/events, until STOP."""
    import requests

    with requests.get(
        f"{url}/v2/events?event_type={event_type}",
        headers={"Accept": "text/event-stream"},
        stream=True,
        timeout=(5, 120),
    ) as response:
        for line in response.iter_lines(decode_unicode=True):
            if stop.is_set():
                return
            if line and line.startswith("data:"):
                event = json.loads(line[5:])
                stamp = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
                yield event, stamp.timestamp()
