"""Ends localdcos's tasks if localdcos itself dies without cleaning up (kill -9).

localdcos starts this with a pipe on stdin and keeps the write end; the read returns EOF
only when localdcos is gone, whatever killed it.
"""

import sys
from pathlib import Path

from localdcos.tasks import kill_leftovers


def main() -> None:
    pid_file, work_dir = Path(sys.argv[1]), Path(sys.argv[2])
    while sys.stdin.buffer.read(4096):
        pass
    kill_leftovers(pid_file, work_dir)


if __name__ == "__main__":
    main()
