"""Ends localdcos's tasks if localdcos itself dies without cleaning up (kill -9).

localdcos starts this with a pipe on stdin and keeps the write end; the read returns EOF
only when localdcos is gone, whatever killed it. Standard library only, to stay small.
"""

import contextlib
import os
import signal
import sys
from pathlib import Path


def kill_leftovers(pid_file: Path, work_dir: Path) -> int:
    """SIGKILL what is left of the process groups in pid_file (a previous run was killed).

    Only processes still in one of those groups and working under work_dir are touched, so a
    recycled pid never hits a stranger.
    """
    if not pid_file.exists():
        return 0
    groups = {int(line) for line in pid_file.read_text().split() if line.isdigit()}
    ended = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            group = int(stat.rsplit(")", 1)[1].split()[2])
            cwd = os.readlink(entry / "cwd")
        except (OSError, ValueError, IndexError):
            continue
        if group in groups and cwd.startswith(str(work_dir)):
            with contextlib.suppress(OSError):
                os.kill(int(entry.name), signal.SIGKILL)
                ended += 1
    pid_file.unlink(missing_ok=True)
    return ended


def main() -> None:
    pid_file, work_dir = Path(sys.argv[1]), Path(sys.argv[2])
    while sys.stdin.buffer.read(4096):
        pass
    kill_leftovers(pid_file, work_dir)


if __name__ == "__main__":
    main()
