import uuid

from django.conf import settings
from django.db import models

from pipelines.status import Status
from spinui.models import Application


class Pipeline(models.Model):
    """A pipeline config in Spinnaker's JSON format; its `id` is kept as given."""

    id = models.CharField(primary_key=True, max_length=64)
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="pipelines")
    name = models.CharField(max_length=255)
    config = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["application__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["application", "name"], name="pipeline_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class PipelineRevision(models.Model):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    config = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "number"], name="revision_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.pipeline} r{self.number}"


class ExecutionQuerySet(models.QuerySet):
    def for_application(self, application: Application) -> "ExecutionQuerySet":
        return self.filter(application=application)

    def running(self) -> "ExecutionQuerySet":
        return self.filter(status=Status.RUNNING)


class Execution(models.Model):
    PIPELINE = "PIPELINE"
    ORCHESTRATION = "ORCHESTRATION"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    type = models.CharField(
        max_length=16, choices=[(PIPELINE, "pipeline"), (ORCHESTRATION, "orchestration")]
    )
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="executions"
    )
    pipeline = models.ForeignKey(
        Pipeline, null=True, blank=True, on_delete=models.SET_NULL, related_name="executions"
    )
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NOT_STARTED)
    # The config as it was when the execution started; later edits do not change a run.
    config = models.JSONField(default=dict)
    trigger = models.JSONField(default=dict)
    run_as = models.CharField(max_length=150)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    canceled = models.BooleanField(default=False)
    canceled_by = models.CharField(max_length=150, blank=True)
    cancellation_reason = models.TextField(blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_ms = models.BigIntegerField(default=0)
    build_time = models.DateTimeField(auto_now_add=True, db_index=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = ExecutionQuerySet.as_manager()

    class Meta:
        ordering = ["-build_time"]
        indexes = [models.Index(fields=["pipeline", "status"])]

    def __str__(self) -> str:
        return f"{self.name} {self.id}"


class Stage(models.Model):
    BEFORE = "STAGE_BEFORE"
    AFTER = "STAGE_AFTER"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="stages")
    ref_id = models.CharField(max_length=64)
    type = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NOT_STARTED)
    # The stage's config as written; `context` is it evaluated, plus what the stage records.
    config = models.JSONField(default=dict)
    context = models.JSONField(default=dict)
    outputs = models.JSONField(default=dict)
    requisite_ref_ids = models.JSONField(default=list)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    synthetic_owner = models.CharField(max_length=16, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    # When the engine must look at this stage again (a poll, a timer, a timeout).
    wake_at = models.DateTimeField(null=True, blank=True, db_index=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["execution", "start_time", "ref_id"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "ref_id"], name="stage_unique_ref_id")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.ref_id})"

    @property
    def is_synthetic(self) -> bool:
        return self.parent_id is not None


class ExecutionEvent(models.Model):
    """The outbox: every status change of an execution or a stage, in its own transaction."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="events")
    stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.CASCADE)
    status = models.CharField(max_length=16, choices=Status.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.execution_id} {self.stage_id or ''} {self.status}"


class ReservedName(models.Model):
    """A server group name taken before Marathon is asked for it: the unique row makes two
    concurrent creates in one cluster pick different sequence numbers."""

    account = models.CharField(max_length=63)
    region = models.CharField(max_length=200)
    name = models.CharField(max_length=200)
    # The create that took it; also the app's `spinui.operation` label.
    operation_id = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "region", "name"], name="reserved_name_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account}/{self.region}/{self.name}"


class DisabledCapacity(models.Model):
    """The instances a server group had when disabled (scaled to 0), for enable: kept here,
    not in a label, because a label change restarts every task."""

    account = models.CharField(max_length=63)
    region = models.CharField(max_length=200)
    name = models.CharField(max_length=200)
    instances = models.PositiveIntegerField()
    disabled_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "region", "name"], name="disabled_capacity_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account}/{self.region}/{self.name}: {self.instances}"
