"""Orca's ExecutionStatus, with its complete and halt flags (spinnaker-semantics §2.2)."""

from django.db import models


class Status(models.TextChoices):
    NOT_STARTED = "NOT_STARTED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    SUSPENDED = "SUSPENDED"
    SUCCEEDED = "SUCCEEDED"
    FAILED_CONTINUE = "FAILED_CONTINUE"
    TERMINAL = "TERMINAL"
    CANCELED = "CANCELED"
    REDIRECT = "REDIRECT"
    STOPPED = "STOPPED"
    SKIPPED = "SKIPPED"
    BUFFERED = "BUFFERED"

    @property
    def is_complete(self) -> bool:
        return self in COMPLETE

    @property
    def is_halt(self) -> bool:
        return self in HALT


COMPLETE = frozenset(
    {
        Status.SUCCEEDED,
        Status.FAILED_CONTINUE,
        Status.SKIPPED,
        Status.TERMINAL,
        Status.CANCELED,
        Status.STOPPED,
    }
)
HALT = frozenset({Status.TERMINAL, Status.CANCELED, Status.STOPPED})
SUCCESSFUL = frozenset({Status.SUCCEEDED, Status.STOPPED, Status.SKIPPED})
# A downstream stage may start once each of its requisites ended in one of these.
LETS_DOWNSTREAM_RUN = frozenset({Status.SUCCEEDED, Status.FAILED_CONTINUE, Status.SKIPPED})
