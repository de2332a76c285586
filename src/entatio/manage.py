"""Django's management commands, for the rare case ``entatio`` lacks one."""

import ctypes
import os
import signal
import sys

# Set by ``entatio serve`` to its own process id for the worker it starts.
PARENT_VARIABLE = "ENTATIO_WORKER_PARENT"
# Linux's prctl option that sends this process a signal when its parent dies.
PR_SET_PDEATHSIG = 1


def main() -> None:
    end_with_parent()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "entatio.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


def end_with_parent() -> None:
    """A worker of ``entatio serve`` stops when the server dies, even by SIGKILL.

    Otherwise the worker runs on alone, and the next server starts a second
    one on the same home.
    """
    parent = os.environ.pop(PARENT_VARIABLE, "")
    if not parent or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    # The server may have died before the call, and then nobody would signal.
    if os.getppid() != int(parent):
        sys.exit(0)


if __name__ == "__main__":
    main()
