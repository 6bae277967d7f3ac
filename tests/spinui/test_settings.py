"""The embedded default: SQLite in WAL mode with immediate transactions, and the filesystem
broker polling quickly. PostgreSQL and a real broker replace them when configured."""

import os
import subprocess
import sys

from django.conf import settings


def test_the_embedded_database_is_sqlite_in_wal_mode_with_a_busy_timeout(tmp_path):
    """Checked on a real file in a fresh process: the test database lives in memory."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SPINUI_ENCRYPTION_KEYS")
    }
    env["SPINUI_VAR_DIR"] = str(tmp_path)
    probe = (
        "from django.db import connection; c = connection.cursor(); "
        "print(c.execute('PRAGMA journal_mode').fetchone()[0], "
        "c.execute('PRAGMA busy_timeout').fetchone()[0], "
        "connection.settings_dict['OPTIONS']['transaction_mode'])"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == ["wal", "20000", "IMMEDIATE"]
    assert (tmp_path / "spinui.sqlite3").exists()
    assert (tmp_path / "encryption_keys").exists()


def test_celery_acknowledges_late_and_takes_one_message_at_a_time_from_a_real_broker():
    assert settings.CELERY_TASK_ACKS_LATE
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    # The filesystem broker has no unacknowledged messages to protect; a limit only delays.
    limit = 0 if settings.CELERY_BROKER_URL == "filesystem://" else 1
    assert limit == settings.CELERY_WORKER_PREFETCH_MULTIPLIER
    assert settings.CELERY_ACCEPT_CONTENT == ["json"]


def test_the_broker_is_the_filesystem_unless_one_is_configured():
    if "CELERY_BROKER_URL" in os.environ:
        assert os.environ["CELERY_BROKER_URL"] == settings.CELERY_BROKER_URL
    else:
        assert settings.CELERY_BROKER_URL == "filesystem://"
        assert settings.CELERY_BROKER_TRANSPORT == "spinui.broker:Transport"
        assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["polling_interval"] == 0.05
