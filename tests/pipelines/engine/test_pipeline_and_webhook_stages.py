"""The pipeline stage runs another pipeline; the webhook stage calls allowed URLs only."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from guardian.shortcuts import assign_perm

from pipelines import services
from pipelines.models import Execution
from spinui.models import Application
from tests.pipelines.engine.conftest import stage, statuses


@pytest.fixture(autouse=True)
def alice_may_run_hello(alice, app):
    assign_perm("execute_application", alice, app)


@pytest.fixture
def child_pipeline(run_pipeline):
    return run_pipeline.save(
        [
            stage(
                "1",
                "checkPreconditions",
                preconditions=[
                    {"type": "expression", "context": {"expression": "parameters.ok == 'yes'"}}
                ],
            )
        ],
        name="child",
        parameterConfig=[{"name": "ok"}],
    )


def test_a_pipeline_stage_runs_the_child_and_takes_its_status(run_pipeline, engine, child_pipeline):
    execution = run_pipeline(
        [
            stage(
                "1",
                "pipeline",
                application="hello",
                pipeline=child_pipeline.id,
                pipelineParameters={"ok": "yes"},
            )
        ],
        name="parent",
    )
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED", execution.stages.get().error
    child = Execution.objects.get(pipeline=child_pipeline)
    assert child.trigger["type"] == "pipeline"
    assert child.trigger["parameters"] == {"ok": "yes"}
    assert execution.stages.get().context["executionId"] == str(child.id)


def test_a_failed_child_fails_the_pipeline_stage(run_pipeline, engine, child_pipeline):
    execution = run_pipeline(
        [
            stage(
                "1",
                "pipeline",
                application="hello",
                pipeline=child_pipeline.id,
                pipelineParameters={"ok": "no"},
            )
        ],
        name="parent",
    )
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "TERMINAL"
    assert "ended TERMINAL" in execution.stages.get().error


def test_a_pipeline_that_would_run_itself_is_refused(run_pipeline, engine, app, alice):
    looping = run_pipeline.save([stage("1")], name="loop")
    config = {
        **looping.config,
        "stages": [stage("1", "pipeline", application="hello", pipeline=looping.id)],
    }
    looping = services.pipeline_save(actor=alice, application=app, config=config)
    execution = services.execution_start(pipeline=looping, trigger=None, user=alice)
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "TERMINAL"
    assert "would run itself in a loop" in execution.stages.get().error
    assert Execution.objects.count() == 1


def test_the_run_as_user_needs_execute_on_the_other_application(run_pipeline, engine, alice):
    other = Application.objects.create(name="other", email="o@example.com")
    target = services.pipeline_save(
        actor=alice, application=other, config={"name": "theirs", "stages": [stage("1")]}
    )
    execution = run_pipeline(
        [stage("1", "pipeline", application="other", pipeline=target.id)], name="parent"
    )
    assert execution.status == "TERMINAL"
    assert "alice may not run pipelines of other" in execution.stages.get().error
    assign_perm("execute_application", alice, other)
    services.stage_restart(stage=execution.stages.get(), user=alice)
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"


def test_not_waiting_for_the_child_succeeds_at_once(run_pipeline, engine):
    slow = run_pipeline.save([stage("1", waitTime=3600)], name="slow")
    execution = run_pipeline(
        [stage("1", "pipeline", application="hello", pipeline=slow.id, waitForCompletion=False)],
        name="parent",
    )
    assert execution.status == "SUCCEEDED"
    assert Execution.objects.get(pipeline=slow).status == "RUNNING"


def test_cancelling_the_parent_cancels_the_child(run_pipeline, engine, alice):
    slow = run_pipeline.save([stage("1", waitTime=3600)], name="slow")
    execution = run_pipeline(
        [stage("1", "pipeline", application="hello", pipeline=slow.id)], name="parent"
    )
    services.execution_cancel(execution=execution, user=alice, reason="stop all")
    engine.run()
    child = Execution.objects.get(pipeline=slow)
    assert (child.status, child.canceled_by) == ("CANCELED", "spinui")


class Recorder(BaseHTTPRequestHandler):
    calls: list = []
    polls = 0

    def _answer(self, body: dict, status: int = 200, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        Recorder.calls.append((self.path, dict(self.headers), self.rfile.read(length)))
        port = self.server.server_address[1]
        if self.path == "/fail":
            return self._answer({"error": "nope"}, 400)
        self._answer({"job": {"status": f"http://127.0.0.1:{port}/jobs/7"}}, 201)

    def do_GET(self):  # noqa: N802
        Recorder.polls += 1
        self._answer({"state": "RUNNING" if Recorder.polls < 2 else "DONE"})

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(settings):
    Recorder.calls, Recorder.polls = [], 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    settings.SPINUI_EXPRESSION_URL_ALLOWLIST = [f"127.0.0.1:{port}"]
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def test_a_webhook_posts_its_payload_and_polls_until_the_status_says_done(
    run_pipeline, engine, receiver
):
    execution = run_pipeline(
        [
            stage(
                "1",
                "webhook",
                url=f"{receiver}/deploy",
                method="POST",
                customHeaders={"X-Token": "abc"},
                payload={"tag": "${parameters.tag}"},
                waitForCompletion=True,
                statusUrlResolution="webhookResponse",
                statusUrlJsonPath="$.job.status",
                statusJsonPath="$.state",
                successStatuses="DONE",
                terminalStatuses="FAILED",
            )
        ],
        trigger={"parameters": {"tag": "v2"}},
    )
    engine.advance(60)
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"
    [(path, headers, body)] = Recorder.calls
    assert (path, json.loads(body), headers["X-Token"]) == ("/deploy", {"tag": "v2"}, "abc")
    assert headers["X-Spinui-Operation"] == str(execution.stages.get().id)
    assert Recorder.polls == 2


def test_a_webhook_answered_with_an_error_fails_the_stage(run_pipeline, engine, receiver):
    execution = run_pipeline([stage("1", "webhook", url=f"{receiver}/fail", method="POST")])
    assert execution.status == "TERMINAL"
    assert "answered HTTP 400" in execution.stages.get().error


def test_a_webhook_to_a_host_off_the_allow_list_is_refused_before_any_call(
    run_pipeline, engine, receiver, settings
):
    settings.SPINUI_EXPRESSION_URL_ALLOWLIST = []
    execution = run_pipeline([stage("1", "webhook", url=f"{receiver}/deploy")])
    assert execution.status == "TERMINAL"
    assert "no host is on SPINUI_EXPRESSION_URL_ALLOWLIST" in execution.stages.get().error
    assert Recorder.calls == []


def test_a_webhook_to_cloud_metadata_is_always_refused(run_pipeline, engine, settings):
    settings.SPINUI_EXPRESSION_URL_ALLOWLIST = ["169.254.169.254:80"]
    execution = run_pipeline([stage("1", "webhook", url="http://169.254.169.254/latest/")])
    assert execution.status == "TERMINAL"
    assert statuses(execution) == {"1": "TERMINAL"}
    assert "169.254.169.254" in execution.stages.get().error
