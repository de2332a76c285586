"""The installed ``entatio`` program, run as a real process on its own home.

These runs use the embedded SQLite in a fresh ENTATIO_HOME, never the test
database, whichever database the rest of the suite uses.
"""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ENTATIO = Path(sys.executable).with_name("entatio")
STARTUP_SECONDS = 60


def environment(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "ENTATIO_DATABASE_URL")
    }
    env["ENTATIO_HOME"] = str(home)
    return env


def entatio(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENTATIO), *argv],
        env=environment(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_console_script_works_on_a_new_home(tmp_path):
    home = tmp_path / "home"
    people = tmp_path / "people.csv"
    people.write_text("Email,FirstName,AccountId\nada@globex.test,Ada,001G\n")

    imported = entatio(
        home, "people", "import", str(people), "--group", "Pilot", "--json"
    )
    listed = entatio(home, "presentations", "--json")
    missing = entatio(home, "slides", "12")

    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["created"] == 1
    assert json.loads(listed.stdout) == {"portal": "main", "presentations": []}
    assert (home / "entatio.sqlite3").exists()
    assert missing.returncode == 2
    assert missing.stdout == ""
    assert missing.stderr == (
        "entatio: There is no presentation 12; 'entatio presentations' lists them.\n"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_line(process: subprocess.Popen[str], text: str) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if text in line:
            return lines
    raise AssertionError(f"no line with {text!r}; got {lines}")


def worker_pids(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if f"PPid:\t{parent}\n" in status and "db_worker" in command:
            found.append(int(entry.name))
    return found


def task_status(home: Path) -> str | None:
    with sqlite3.connect(home / "entatio.sqlite3") as db:
        row = db.execute(
            "SELECT status FROM django_tasks_database_dbtaskresult ORDER BY enqueued_at"
        ).fetchone()
    return row[0] if row else None


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc for the worker")
def test_serve_runs_the_web_app_and_a_worker_and_stops_both(tmp_path):
    home = tmp_path / "home"
    port = free_port()
    server = subprocess.Popen(
        [str(ENTATIO), "serve", "--port", str(port)],
        env=environment(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        welcome = "".join(wait_for_line(server, "Sign in as"))
        assert f"http://localhost:{port}/" in welcome
        login = welcome.split("Sign in as ")[1].split(".\n")[0]
        email, password = login.split(" with password ")
        assert email == "owner@entatio.localhost"
        assert (home / "logins.txt").read_text() == f"{email} {password}\n"

        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        page = direct.open(f"http://127.0.0.1:{port}/login/", timeout=30)
        assert page.status == 200

        [worker] = worker_pids(server.pid)
        enqueue = (
            "import django; django.setup();"
            "from entatio.engagement.tasks import sync_records_task;"
            "sync_records_task.enqueue([])"
        )
        env = environment(home) | {"DJANGO_SETTINGS_MODULE": "entatio.settings"}
        subprocess.run([sys.executable, "-c", enqueue], env=env, check=True)
        deadline = time.monotonic() + STARTUP_SECONDS
        while task_status(home) != "SUCCESSFUL" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert task_status(home) == "SUCCESSFUL"
    finally:
        server.send_signal(signal.SIGINT)
        status = server.wait(timeout=30)

    assert status == 0
    assert not Path(f"/proc/{worker}").exists()


def start_server(home: Path) -> subprocess.Popen[str]:
    """``entatio serve`` on a free port, once it says it is running."""
    server = subprocess.Popen(
        [str(ENTATIO), "serve", "--port", str(free_port())],
        env=environment(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    wait_for_line(server, "Sign in as")
    return server


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc for the worker")
def test_a_worker_that_dies_is_started_again_and_stopped_with_the_server(tmp_path):
    server = start_server(tmp_path / "home")
    try:
        [first] = worker_pids(server.pid)

        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            again = [pid for pid in worker_pids(server.pid) if pid != first]
            if again:
                break
            time.sleep(0.2)
        assert again, "no new worker after the first was killed"
    finally:
        server.send_signal(signal.SIGINT)
        status = server.wait(timeout=30)

    assert status == 0
    assert not Path(f"/proc/{again[0]}").exists()


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the worker ends with its parent"
)
def test_a_server_killed_outright_takes_its_worker_along(tmp_path):
    server = start_server(tmp_path / "home")
    try:
        [worker] = worker_pids(server.pid)
    finally:
        server.kill()
        server.wait(timeout=30)

    deadline = time.monotonic() + 30
    while is_running(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not is_running(worker)


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")
