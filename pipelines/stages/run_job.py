"""Run Job on Metronome (reference §1.6): create or update the job, start one run, follow it
to SUCCESS or FAILED, and read its property file back from the Mesos sandbox.

The job id is `general.id` as given, as clouddriver's RunDcosJobAtomicOperation uses it (no
account or application prefix). Each step records what it did before the next one acts, so a
redelivered message never starts a second run: the runs the job had before are recorded, and
a run not among them is the one an earlier attempt started.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pipelines import server_groups as sg
from pipelines.server_groups import OperationError
from pipelines.stages import ConfigError, Field, Outcome, StageRun, StageType, register
from pipelines.stages.server_groups import (
    _failed,
    _has_expression,
    account_changed,
    poll_seconds,
)
from pipelines.status import Status
from providers.dcos.metronome import (
    FAILED,
    FileText,
    JobRun,
    MetronomeClient,
    PropertyFileError,
    Sandbox,
    job_definition,
    job_id_error,
    parse_property_file,
    runs_of,
)
from providers.dcos.operations import DescriptionError
from providers.dcos.transport import DcosError

# What a failed run's error shows of its stderr.
STDERR_TAIL_BYTES = 2048
STDERR_TAIL_LINES = 5
# What the log view shows of each of stdout and stderr: their last 64 KiB (one agent read).
OUTPUT_BYTES = 64 * 1024
# The stage's own bookkeeping: never taken from a config (a config holding a runId would skip
# the start and its permission check), never overwritten by a property file's keys.
OWN_KEYS = frozenset(
    {"jobId", "jobCreated", "runsBefore", "runId", "jobStatus", "taskIds", "sandbox"}
)


def region_of(context: dict[str, Any]) -> str:
    """Deck sets `region` and `dcosCluster` to the same DC/OS cluster."""
    return str(context.get("region") or context.get("dcosCluster") or "")


def metronome_of(context: dict[str, Any]) -> MetronomeClient:
    return sg.metronome(sg.account_of(context), region_of(context))


def job_output(context: dict[str, Any]) -> dict[str, FileText | None]:
    """The ends of the stdout and stderr of the run's (latest) task, read from its sandbox;
    {} before the task has one."""
    if not context.get("sandbox"):
        return {}
    sandbox = Sandbox.from_json(context["sandbox"])
    metronome = metronome_of(context)
    return {name: metronome.tail(sandbox, name, OUTPUT_BYTES) for name in ("stdout", "stderr")}


def _ours(job: dict[str, Any] | None, before: list[str]) -> JobRun | None:
    """A run of the job that was not there before this stage started one."""
    if job is None:
        return None
    known = set(before)
    return next((run for run in runs_of(job) if run.id not in known), None)


def _stderr_tail(metronome: MetronomeClient, sandbox: Sandbox | None) -> str:
    if sandbox is None:
        return ""
    tail = metronome.tail(sandbox, "stderr", STDERR_TAIL_BYTES)
    if tail is None:
        return ""
    lines = [line for line in tail.text.splitlines() if line.strip()]
    return " | ".join(lines[-STDERR_TAIL_LINES:])


@register
class RunJob(StageType):
    type = "runJob"
    label = "Run Job"
    description = (
        "Runs a Metronome job once and waits for it; a property file it writes to its "
        "sandbox becomes the stage's outputs."
    )
    # Orca's WaitOnJobCompletion; stageTimeoutMs with overrideTimeout sets another.
    default_timeout = timedelta(hours=2)
    fields = (
        Field("account", "Account", required=True),
        Field("region", "Region (DC/OS cluster)", required=True),
        Field(
            "general",
            "Job",
            "json",
            required=True,
            help='{"id": "hello.smoke", "cmd": "curl -fs http://…", "cpus": 0.1, "mem": 32}',
        ),
        Field("docker", "Docker image", "json", help='{"image": {"imageId": "spinui/hello:1.0"}}'),
        Field("env", "Environment", "json"),
        Field("labels", "Labels", "json"),
        Field("restartPolicy", "Restart", "json", help='{"policy": "ON_FAILURE", …}'),
        Field("maxLaunchDelay", "Max launch delay (s)", "number"),
        Field(
            "propertyFile",
            "Property file",
            help="a file in the sandbox: JSON if the name contains .json, else key=value",
        ),
    )

    def accounts_changed(self, config: dict[str, Any], path: str) -> list[tuple[str, str]]:
        return account_changed(config, path)

    def validate(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        errors = []
        provider = config.get("cloudProvider") or "dcos"
        if provider != "dcos" and not _has_expression({"p": provider}):
            errors.append(ConfigError(f"{path}/cloudProvider", "spinui runs jobs on dcos"))
        account_key = "credentials" if config.get("credentials") else "account"
        region_key = "region" if config.get("region") else "dcosCluster"
        if not sg.account_of(config):
            errors.append(ConfigError(f"{path}/account", "name the account"))
        if not region_of(config):
            errors.append(ConfigError(f"{path}/region", "name the region (the DC/OS cluster)"))
        regions = {f"{path}/{region_key}": region_of(config)} if region_of(config) else {}
        errors += [
            ConfigError(where, message)
            for where, message in sg.place_errors(
                sg.account_of(config), f"{path}/{account_key}", regions
            )
        ]
        name = config.get("propertyFile")
        if name not in (None, "") and not isinstance(name, str):
            errors.append(ConfigError(f"{path}/propertyFile", "give a file name"))
        errors += [
            ConfigError(f"{path}/{key}", "is recorded by the stage; leave it out of the config")
            for key in sorted(OWN_KEYS & set(config))
        ]
        return errors + self._job_errors(config, path)

    @staticmethod
    def _job_errors(config: dict[str, Any], path: str) -> list[ConfigError]:
        """The whole job when it holds no expression, else only a literal job id."""
        if not _has_expression(config):
            try:
                job_definition(config)
            except DescriptionError as error:
                return [ConfigError(f"{path}{where}", message) for where, message in error.errors]
            return []
        general = config.get("general")
        job_id = general.get("id") if isinstance(general, dict) else None
        if _has_expression({"id": job_id}):
            return []
        problem = job_id_error(job_id)
        return [ConfigError(f"{path}/general/id", problem)] if problem else []

    def run(self, run: StageRun) -> Outcome:
        try:
            if "jobId" not in run.context:
                return self._upsert_job(run)
            if "runId" not in run.context:
                return self._start_run(run)
            return self._follow(run)
        except (OperationError, DcosError) as error:
            return _failed(error)

    def _upsert_job(self, run: StageRun) -> Outcome:
        context = run.context
        sg.check_may_write(run.run_as, run.execution["application"], sg.account_of(context))
        provider = context.get("cloudProvider") or "dcos"
        if provider != "dcos":
            error = f"cloudProvider {provider!r}: only dcos runs jobs"
            return Outcome(Status.TERMINAL, error=error)
        try:
            spec = job_definition(context)
        except DescriptionError as error:
            return Outcome(Status.TERMINAL, error=f"invalid job: {error}")
        metronome = metronome_of(context)
        existing = metronome.job(spec["id"])
        before = [r.id for r in runs_of(existing)] if existing else []
        created = metronome.upsert_job(spec)
        recorded = {"jobId": spec["id"], "jobCreated": created, "runsBefore": before}
        return Outcome(Status.RUNNING, context=recorded)

    def _start_run(self, run: StageRun) -> Outcome:
        job_id = run.context["jobId"]
        metronome = metronome_of(run.context)
        job = metronome.job(job_id)
        if job is None:
            return Outcome(Status.TERMINAL, error=f"job {job_id} was deleted before it ran")
        started = _ours(job, run.context.get("runsBefore") or [])
        found = started is not None  # an earlier attempt started it; its answer was lost
        if started is None:
            started = metronome.start_run(job_id)
        recorded = {"runId": started.id, "jobStatus": started.status, "foundExisting": found}
        return Outcome(Status.RUNNING, context=recorded, delay=poll_seconds())

    def _follow(self, run: StageRun) -> Outcome:
        context = run.context
        job_id, run_id = context["jobId"], context["runId"]
        metronome = metronome_of(context)
        current = metronome.run(job_id, run_id)
        if current is None:
            return Outcome(
                Status.TERMINAL,
                error=f"job {job_id} run {run_id} is gone from Metronome (was the job deleted?)",
            )
        recorded: dict[str, Any] = {"jobStatus": current.status}
        if current.task_ids:
            recorded["taskIds"] = list(current.task_ids)
        task_id = current.task_ids[-1] if current.task_ids else None
        known = (context.get("sandbox") or {}).get("taskId")
        sandbox = None
        # Look the sandbox up once per task while it runs, and again at the end for its state.
        if task_id and (known != task_id or current.finished):
            sandbox = metronome.sandbox(task_id)
            if sandbox is not None:
                recorded["sandbox"] = sandbox.as_json()
        if not current.finished:
            recorded["waitingFor"] = f"run {run_id} is {current.status}"
            return Outcome(Status.RUNNING, context=recorded, delay=poll_seconds())
        recorded["waitingFor"] = ""
        if current.status == FAILED:
            return self._run_failed(metronome, current, sandbox, recorded)
        return self._run_succeeded(metronome, context, current, sandbox, recorded)

    @staticmethod
    def _run_failed(
        metronome: MetronomeClient,
        current: JobRun,
        sandbox: Sandbox | None,
        recorded: dict[str, Any],
    ) -> Outcome:
        task = f" ({sandbox.state})" if sandbox else " (no task launched)"
        error = f"job {current.job_id} run {current.id}: FAILED{task}"
        stderr = _stderr_tail(metronome, sandbox)
        if stderr:
            error += f"; stderr ends: {stderr}"
        outputs = {"jobStatus": FAILED}
        return Outcome(Status.TERMINAL, context=recorded, outputs=outputs, error=error)

    @staticmethod
    def _run_succeeded(
        metronome: MetronomeClient,
        context: dict[str, Any],
        current: JobRun,
        sandbox: Sandbox | None,
        recorded: dict[str, Any],
    ) -> Outcome:
        outputs: dict[str, Any] = {}
        name = context.get("propertyFile")
        if name:
            where = f"property file {name} of job {current.job_id} run {current.id}"
            if sandbox is None:
                return Outcome(
                    Status.TERMINAL, context=recorded, error=f"{where}: Mesos knows no task of it"
                )
            try:
                text = metronome.read(sandbox, name.lstrip("/"))
                if text is None:
                    raise PropertyFileError(f"no such file in the sandbox of {sandbox.task_id}")
                properties = parse_property_file(name, text)
                if not properties:
                    raise PropertyFileError("it is empty")
            except ValueError as error:  # PropertyFileError, or a file too large
                return Outcome(Status.TERMINAL, context=recorded, error=f"{where}: {error}")
            outputs.update(properties)
            outputs["propertyFileContents"] = properties
        outputs["jobStatus"] = current.status
        # Orca puts the outputs into the context too, without touching the stage's own keys.
        visible = {k: v for k, v in outputs.items() if k not in OWN_KEYS}
        return Outcome(Status.SUCCEEDED, context={**visible, **recorded}, outputs=outputs)

    def cancel(self, run: StageRun) -> dict[str, Any]:
        """Stop the run (canceled, skipped or timed out): Metronome kills its task."""
        context = run.context
        job_id, run_id = context.get("jobId"), context.get("runId")
        if not job_id:
            return {}
        try:
            metronome = metronome_of(context)
            if not run_id:  # the start's answer may have been lost
                started = _ours(metronome.job(job_id), context.get("runsBefore") or [])
                run_id = started.id if started else None
            if not run_id:
                return {}
            stopped = metronome.stop_run(job_id, run_id)
        except (OperationError, DcosError) as error:
            return {"stopError": str(error)}
        return {"runId": run_id, "runStopped": stopped}
