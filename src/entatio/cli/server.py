"""``entatio serve``: the web app and a task worker, stopped together."""

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import uvicorn
from django.conf import settings

from entatio.cli.output import CommandError
from entatio.manage import PARENT_VARIABLE
from entatio.people.defaults import default_portal, ensure_owner_login

logger = logging.getLogger(__name__)

WORKER_STOP_SECONDS = 15
# A worker that dies is started again, up to this many times in the window.
MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 600
RESTART_DELAY_SECONDS = 1.0
LOOPBACK_NAMES = {"127.0.0.1": "localhost", "::1": "localhost"}


def serve(arguments: argparse.Namespace) -> int:
    portal = default_portal()
    owner, password = ensure_owner_login(portal)
    listening = _listen(arguments.host, arguments.port)
    _resume_background_work()

    # SIGTERM stops the server as Ctrl-C does, so the worker is stopped too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    worker = WorkerSupervisor()
    threading.Thread(target=worker.watch, daemon=True).start()
    try:
        _print_welcome(arguments.host, arguments.port, owner.email, password)
        config = uvicorn.Config(
            "entatio.asgi:application",
            host=arguments.host,
            port=arguments.port,
            lifespan="off",
            log_level="info",
        )
        uvicorn.Server(config).run(sockets=[listening])
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
    return 0


def _resume_background_work() -> None:
    """Work a stopped server left: imports half made, schedules overdue."""
    from entatio.crm.tasks import ensure_schedules
    from entatio.ingest.imports import resume_stalled_imports
    from entatio.ingest.tasks import ensure_stall_watch
    from entatio.insights.tasks import ensure_schedules as ensure_insights_schedules

    resumed = resume_stalled_imports()
    if resumed:
        logger.info("Queued %d imports that stopped with the last server", resumed)
    ensure_schedules()
    ensure_insights_schedules()
    # A worker may die mid-import while the server runs on: checked again
    # every few minutes, not only here.
    ensure_stall_watch()


def _listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound before the welcome so the address works."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as error:
        listening.close()
        raise CommandError(
            f"Cannot listen on {host}:{port} ({error.strerror}); stop what "
            "uses that port or choose another with --port."
        ) from error
    listening.listen(128)
    listening.set_inheritable(True)
    return listening


def start_worker() -> subprocess.Popen[bytes]:
    """The task worker as a child process of the same Python and settings."""
    command = [
        sys.executable,
        "-m",
        "entatio.manage",
        "db_worker",
        "--interval",
        "1",
        "--no-startup-delay",
        # The reloader would fork a second process that a stop could miss.
        "--no-reload",
    ]
    # The worker ends itself when this process dies (see entatio.manage).
    environment = {**os.environ, PARENT_VARIABLE: str(os.getpid())}
    return subprocess.Popen(command, env=environment)


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.terminate()
    try:
        worker.wait(timeout=WORKER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        logger.warning(
            "The worker did not stop in %ss; killing it", WORKER_STOP_SECONDS
        )
        worker.kill()
        worker.wait()


class WorkerSupervisor:
    """The task worker, started again when it dies while the server runs.

    Imports, syncs and schedules all wait on the worker; a server whose
    worker died would look alive and do nothing in the background. A worker
    that dies again and again is left stopped, with a line saying so.
    """

    def __init__(self) -> None:
        self.process = start_worker()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.restarts: list[float] = []

    def watch(self) -> None:
        while True:
            status = self.process.wait()
            if self.stopping.is_set():
                return
            if not self._may_restart():
                logger.error(
                    "The task worker stopped with status %s %d times in %d "
                    "minutes; imports and syncs wait until entatio serve is "
                    "restarted",
                    status,
                    len(self.restarts),
                    RESTART_WINDOW_SECONDS // 60,
                )
                return
            logger.warning(
                "The task worker stopped with status %s; starting it again", status
            )
            time.sleep(RESTART_DELAY_SECONDS)
            with self.lock:
                if self.stopping.is_set():
                    return
                self.process = start_worker()

    def _may_restart(self) -> bool:
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < RESTART_WINDOW_SECONDS]
        self.restarts.append(now)
        return len(self.restarts) <= MAX_RESTARTS

    def stop(self) -> None:
        with self.lock:
            self.stopping.set()
            stop_worker(self.process)


def _print_welcome(host: str, port: int, email: str, password: str | None) -> None:
    address = f"http://{LOOPBACK_NAMES.get(host, host)}:{port}/"
    login = f"password {password}" if password else "the password set for it"
    print(
        f"Entatio is running at {address} (Ctrl-C stops it).\n"
        f"Sign in as {email} with {login}.\n"
        f"Data: {settings.HOME}",
        flush=True,
    )
