"""A deterministic engine: messages are kept in a queue ordered by when they are due, and
the clock only moves when the queue says so. The handlers are the real ones; only the
transport (Celery) and the clock are replaced."""

import heapq
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User
from guardian.shortcuts import assign_perm

from pipelines import services
from pipelines.engine import clock, handlers, messages
from pipelines.models import Execution, Pipeline
from spinui.models import Application

HANDLERS = {
    "start_execution": handlers.start_execution,
    "start_stage": handlers.start_stage,
    "run_stage": handlers.run_stage,
}


class Engine:
    def __init__(self) -> None:
        self.time = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # a Monday, noon
        self.queue: list = []
        self.sent: list[tuple[str, tuple]] = []
        self._order = itertools.count()
        self.drop_next: set[str] = set()

    def now(self) -> datetime:
        return self.time

    def send(self, name: str, args: tuple, delay: float) -> None:
        self.sent.append((name, args))
        if name in self.drop_next:
            self.drop_next.discard(name)
            return
        due = self.time + timedelta(seconds=delay)
        heapq.heappush(self.queue, (due, next(self._order), name, args))

    def run(self, until: datetime | None = None, steps: int = 500) -> None:
        """Deliver messages in order, moving the clock to each one's due time."""
        for _ in range(steps):
            if not self.queue or (until and self.queue[0][0] > until):
                break
            due, _, name, args = heapq.heappop(self.queue)
            self.time = max(self.time, due)
            HANDLERS[name](*args)
        else:
            raise AssertionError(f"the engine did not settle within {steps} messages")
        if until:
            self.time = max(self.time, until)

    def advance(self, seconds: float) -> None:
        """Let time pass, firing timers the way the sweeper does, and deliver what is due."""
        end = self.time + timedelta(seconds=seconds)
        while True:
            self.run(until=end)
            if self.time >= end:
                break
        handlers.sweep(grace_seconds=0)
        self.run(until=end)


@pytest.fixture
def engine(monkeypatch, transactional_db, settings) -> Engine:
    settings.SPINUI_ENGINE_MAX_COUNTDOWN = 60
    engine = Engine()
    monkeypatch.setattr(messages, "sender", engine.send)
    monkeypatch.setattr(clock, "source", engine.now)
    return engine


@pytest.fixture
def app(transactional_db) -> Application:
    return Application.objects.create(name="hello", email="team@example.com")


@pytest.fixture
def alice(transactional_db) -> User:
    return User.objects.create_user("alice", password="alice-pass-1")


@pytest.fixture
def run_pipeline(engine, app, alice):
    """Save a pipeline of these stages, start it, and let the engine run it to rest."""

    def run(stages: list[dict], settle: bool = True, **config) -> Execution:
        pipeline = save(stages, **config)
        execution = services.execution_start(
            pipeline=pipeline, trigger=config.pop("trigger", None), user=alice
        )
        if settle:
            engine.run()
        execution.refresh_from_db()
        return execution

    def save(stages: list[dict], **config) -> Pipeline:
        config.pop("trigger", None)
        return services.pipeline_save(
            actor=alice,
            application=app,
            config={"name": config.pop("name", "deploy"), "stages": stages, **config},
        )

    run.save = save
    return run


def stage(ref: str, type_: str = "wait", after: tuple = (), **config) -> dict:
    return {
        "refId": ref,
        "type": type_,
        "name": config.pop("name", f"stage {ref}"),
        "requisiteStageRefIds": list(after),
        **({"waitTime": 0} if type_ == "wait" and "waitTime" not in config else {}),
        **config,
    }


def statuses(execution: Execution) -> dict[str, str]:
    return {s.ref_id: s.status for s in execution.stages.all()}


def member(app: Application, name: str, levels: list[str], roles: tuple[str, ...] = ()) -> User:
    """A user holding LEVELS on APP directly, and belonging to ROLES."""
    user = User.objects.create_user(name)
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    for level in levels:
        assign_perm(f"{level}_application", user, app)
    return user
