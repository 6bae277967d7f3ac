"""The embedded broker: a message appears in the queue folder only once it is complete, so a
worker polling the folder never takes a half-written one."""

import os

from kombu import Connection

from spinui import broker


def connection(folder) -> Connection:
    return Connection(
        "filesystem://",
        transport="spinui.broker:Transport",
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "store_processed": False,
        },
    )


def test_a_message_enters_the_queue_folder_whole(tmp_path, monkeypatch):
    seen_while_writing = []
    rename = os.replace

    def replace(source, target):
        seen_while_writing.append(sorted(os.listdir(tmp_path)))
        assert os.path.getsize(source) > 0
        rename(source, target)

    monkeypatch.setattr(broker.os, "replace", replace)
    with connection(tmp_path) as conn:
        queue = conn.SimpleQueue("celery")
        queue.put({"task": "pipelines.tasks.run_stage"})
        (listing,) = seen_while_writing
        assert not [name for name in listing if name.endswith(".msg")]
        assert queue.get(timeout=1).payload == {"task": "pipelines.tasks.run_stage"}
        queue.close()
