"""``entatio serve``: the web app and a task worker, stopped together."""

import argparse
import logging
import signal
import socket
import subprocess
import sys
import threading

import uvicorn
from django.conf import settings

from entatio.cli.output import CommandError
from entatio.people.defaults import default_portal, ensure_owner_login

logger = logging.getLogger(__name__)

WORKER_STOP_SECONDS = 15
LOOPBACK_NAMES = {"127.0.0.1": "localhost", "::1": "localhost"}


def serve(arguments: argparse.Namespace) -> int:
    portal = default_portal()
    owner, password = ensure_owner_login(portal)
    listening = _listen(arguments.host, arguments.port)
    _resume_background_work()

    # SIGTERM stops the server as Ctrl-C does, so the worker is stopped too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    worker = start_worker()
    stopping = threading.Event()
    threading.Thread(target=_watch, args=(worker, stopping), daemon=True).start()
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
        stopping.set()
        stop_worker(worker)
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
    return subprocess.Popen(command)


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


def _watch(worker: subprocess.Popen[bytes], stopping: threading.Event) -> None:
    status = worker.wait()
    if not stopping.is_set():
        logger.error(
            "The task worker stopped with status %s; imports will wait until "
            "entatio serve is restarted",
            status,
        )


def _print_welcome(host: str, port: int, email: str, password: str | None) -> None:
    address = f"http://{LOOPBACK_NAMES.get(host, host)}:{port}/"
    login = f"password {password}" if password else "the password set for it"
    print(
        f"Entatio is running at {address} (Ctrl-C stops it).\n"
        f"Sign in as {email} with {login}.\n"
        f"Data: {settings.HOME}",
        flush=True,
    )
