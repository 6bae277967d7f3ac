"""Reading a job task's sandbox through the Mesos master, the agent's state and its files
API (reference §1.6 steps 1–5), against a real localdcos."""

import pytest

from providers.dcos.metronome import MetronomeClient, job_definition, parse_property_file
from tests.providers.conftest import wait_until


@pytest.fixture
def metronome(localdcos) -> MetronomeClient:
    return MetronomeClient(localdcos.config())


def run_to_end(metronome: MetronomeClient, cmd: str):
    """Run CMD as job hello.files; the finished run and its task's sandbox."""
    metronome.upsert_job(
        job_definition({"general": {"id": "hello.files", "cmd": cmd, "cpus": 0.01, "mem": 32}})
    )
    started = metronome.start_run("hello.files")
    run = wait_until(lambda: (r := metronome.run("hello.files", started.id)) and r.finished and r)
    return run, metronome.sandbox(run.task_ids[-1])


def test_it_finds_the_sandbox_of_a_finished_task(metronome):
    run, sandbox = run_to_end(metronome, "echo hi")
    assert sandbox.task_id == run.task_ids[-1]
    assert sandbox.state == "TASK_FINISHED"
    assert sandbox.directory.startswith(f"/var/lib/mesos/slave/slaves/{sandbox.agent_id}/")
    assert f"/executors/{sandbox.task_id}/runs/" in sandbox.directory


def test_it_reads_a_json_property_file(metronome):
    _, sandbox = run_to_end(
        metronome, """printf '{"greeting": "hi", "count": 2}' > "$MESOS_SANDBOX/out.json" """
    )
    text = metronome.read(sandbox, "out.json")
    assert parse_property_file("out.json", text) == {"greeting": "hi", "count": 2}


def test_it_reads_a_java_properties_file(metronome):
    write = r"""printf '# result\nversion=1.2\nurl: http://x\n' > "$MESOS_SANDBOX/b.properties" """
    _, sandbox = run_to_end(metronome, write)
    text = metronome.read(sandbox, "b.properties")
    assert parse_property_file("b.properties", text) == {"version": "1.2", "url": "http://x"}


def test_a_file_that_is_not_there_is_none(metronome):
    _, sandbox = run_to_end(metronome, "true")
    assert metronome.read(sandbox, "out.json") is None
    assert metronome.tail(sandbox, "nothing.log") is None


def test_a_file_larger_than_the_limit_is_refused_not_half_read(metronome):
    _, sandbox = run_to_end(metronome, """head -c 5000 /dev/zero > "$MESOS_SANDBOX/big.json" """)
    with pytest.raises(ValueError, match="5000 bytes"):
        metronome.read(sandbox, "big.json", limit=4096)


def test_the_tail_of_stdout_and_stderr(metronome):
    _, sandbox = run_to_end(metronome, "seq 1 3000; echo oops >&2")
    stdout = metronome.tail(sandbox, "stdout", limit=100)
    assert stdout.truncated
    assert stdout.text.endswith("2999\n3000\n")
    assert len(stdout.text) == 100
    assert stdout.size > 10000
    stderr = metronome.tail(sandbox, "stderr")
    assert not stderr.truncated
    assert stderr.text == "oops\n"
