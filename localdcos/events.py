"""Marathon's event bus: every subscriber of /v2/events gets the events it asked for."""

from __future__ import annotations

import asyncio
import json

from .apps import timestamp

QUEUE_LIMIT = 10_000


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[tuple[asyncio.Queue, frozenset[str]]] = []

    def publish(self, event_type: str, **fields) -> None:
        payload = {**fields, "eventType": event_type, "timestamp": timestamp()}
        frame = f"event: {event_type}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n"
        for subscriber in list(self._subscribers):
            queue, wanted = subscriber
            if wanted and event_type not in wanted:
                continue
            if queue.qsize() >= QUEUE_LIMIT:
                # A reader this far behind is gone; real Marathon drops slow consumers too.
                self._subscribers.remove(subscriber)
                queue.put_nowait(None)
                continue
            queue.put_nowait(frame.encode())

    def subscribe(self, wanted: frozenset[str]) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(QUEUE_LIMIT + 1)
        self._subscribers.append((queue, wanted))
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._subscribers = [s for s in self._subscribers if s[0] is not queue]
