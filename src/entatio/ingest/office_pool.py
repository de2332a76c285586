"""LibreOffice kept warm: a pool of running offices that convert file after file.

Each office runs in a process group of its own, with a profile folder that
no other office uses at the same time (a lock per folder, so two worker
processes on one machine never share one). An office that hangs past the
time limit is killed with its group; one that crashed, or has converted
OFFICE_MAX_CONVERSIONS files, is replaced on the next request.
"""

import atexit
import fcntl
import importlib.util
import json
import logging
import os
import select
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import IO

from django.conf import settings

from entatio.ingest.config import ingest_setting
from entatio.ingest.office import (
    PDF_FILTER,
    PDF_OPTIONS,
    convert_with_new_office,
    could_not_read,
    kill_group,
    office_missing,
    too_slow,
)

logger = logging.getLogger(__name__)

BRIDGE = Path(__file__).with_name("office_bridge.py")
START_TIMEOUT_SECONDS = 60


class OfficeUnavailable(Exception):
    """The warm office cannot be started here; one run per file must do."""


class OfficeLost(Exception):
    """The office stopped answering while it held a file."""


class WarmOffice:
    """One running LibreOffice, and the bridge that hands it files."""

    def __init__(self, profile: Path, profile_lock: IO[bytes]):
        self.profile = profile
        self.profile_lock = profile_lock
        self.conversions = 0
        self.office: subprocess.Popen | None = None
        self.bridge: subprocess.Popen | None = None

    def start(self) -> None:
        port = free_port()
        self.office = start_process(office_command(self.profile, port))
        self.bridge = start_process(
            bridge_command(port), stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        try:
            answer = self.answer(START_TIMEOUT_SECONDS)
        except (TimeoutError, OfficeLost) as error:
            self.stop()
            raise OfficeUnavailable(f"no answer from the office: {error!r}") from error
        if "error" in answer:
            self.stop()
            raise OfficeUnavailable(answer["error"])

    def convert(self, source: Path, target: Path, timeout: float) -> None:
        request = {
            "source": str(source),
            "target": str(target),
            "filter": PDF_FILTER,
            "options": PDF_OPTIONS,
        }
        assert self.bridge is not None and self.bridge.stdin is not None
        try:
            self.bridge.stdin.write(json.dumps(request).encode() + b"\n")
            self.bridge.stdin.flush()
        except OSError as error:
            raise OfficeLost(repr(error)) from error

        self.conversions += 1
        answer = self.answer(timeout)
        if "error" in answer:
            logger.info("LibreOffice refused %s: %s", source.name, answer["error"])
            raise could_not_read()

    def answer(self, timeout: float) -> dict:
        assert self.bridge is not None and self.bridge.stdout is not None
        readable, _, _ = select.select([self.bridge.stdout], [], [], timeout)
        if not readable:
            raise TimeoutError(f"no answer within {timeout:.0f} s")
        line = self.bridge.stdout.readline()
        if not line:
            raise OfficeLost("the bridge to the office closed")
        return json.loads(line)

    def is_alive(self) -> bool:
        return all(
            p is not None and p.poll() is None for p in (self.office, self.bridge)
        )

    def stop(self) -> None:
        for process in (self.bridge, self.office):
            if process is not None and process.poll() is None:
                kill_group(process.pid)
            if process is not None:
                process.wait()
        self.profile_lock.close()


class OfficePool:
    """At most ``size`` warm offices, started as requests need them."""

    def __init__(self, size: int):
        self.size = size
        self.idle: list[WarmOffice] = []
        self.running = 0
        self.free = threading.Condition()

    def convert(self, source: Path, target: Path, timeout: float) -> None:
        if self.is_cold():
            # Starting a warm office takes as long as a whole one-off run:
            # the first file gets the one-off run (in the profile kept from
            # earlier runs, claimed first), the warm office starts beside it.
            profile, lock = claim_profile()
            try:
                self.warm_up_if_cold()
                convert_with_new_office(source, target, timeout, profile)
            finally:
                lock.close()
            return

        office = self.take()
        try:
            office.convert(source, target, timeout)
        except TimeoutError:
            logger.warning(
                "LibreOffice hung on %s for %s s; it was killed", source.name, timeout
            )
            office.stop()
            raise too_slow(timeout) from None
        except OfficeLost as error:
            logger.warning("LibreOffice stopped while converting %s: %s", source, error)
            office.stop()
            raise could_not_read() from error
        finally:
            self.give_back(office)

    def take(self) -> WarmOffice:
        with self.free:
            while True:
                office = self.take_idle()
                if office is not None:
                    return office
                if self.running < self.size:
                    self.running += 1
                    break
                self.free.wait()

        try:
            return start_office()
        except BaseException:
            with self.free:
                self.running -= 1
                self.free.notify()
            raise

    def take_idle(self) -> WarmOffice | None:
        """An idle office that still runs; any that died waiting are dropped."""
        while self.idle:
            office = self.idle.pop()
            if office.is_alive():
                return office
            office.stop()
            self.running -= 1
        return None

    def give_back(self, office: WarmOffice) -> None:
        worn_out = office.conversions >= ingest_setting("OFFICE_MAX_CONVERSIONS")
        if office.is_alive() and not worn_out:
            with self.free:
                self.idle.append(office)
                self.free.notify()
            return

        office.stop()
        with self.free:
            self.running -= 1
            self.free.notify()

    def is_cold(self) -> bool:
        with self.free:
            return not (self.running or self.idle)

    def warm_up_if_cold(self) -> bool:
        """Start the first office in the background, if none was started."""
        with self.free:
            if self.running or self.idle:
                return False
            self.running += 1
        # Not a daemon: at exit Python waits for it, then stop_all runs.
        threading.Thread(target=self.warm_up, name="office-warm-up").start()
        return True

    def warm_up(self) -> None:
        try:
            office = start_office()
        except Exception as error:
            logger.warning("Warm LibreOffice could not start: %r", error)
            with self.free:
                self.running -= 1
                self.free.notify()
            return
        with self.free:
            self.idle.append(office)
            self.free.notify()

    def wait_until_warm(self, timeout: float) -> bool:
        """Whether an office is idle and running, waiting up to ``timeout``."""
        with self.free:
            return self.free.wait_for(lambda: bool(self.idle), timeout)

    def stop_all(self) -> None:
        with self.free:
            offices, self.idle = self.idle, []
            self.running -= len(offices)
        for office in offices:
            office.stop()


def start_office() -> WarmOffice:
    profile, lock = claim_profile()
    office = WarmOffice(profile, lock)
    try:
        office.start()
    except OfficeUnavailable:
        # A profile left broken by a killed office would fail every start.
        shutil.rmtree(profile, ignore_errors=True)
        raise
    return office


def claim_profile() -> tuple[Path, IO[bytes]]:
    """A profile folder no other office uses, held by a lock while in use."""
    root = profiles_root()
    root.mkdir(parents=True, exist_ok=True)
    for slot in range(64):
        lock = (root / f"profile-{slot}.lock").open("wb")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        return root / f"profile-{slot}", lock
    raise OfficeUnavailable(f"all office profiles in {root} are in use")


def profiles_root() -> Path:
    # Kept under the home so a restarted worker finds its profile made: a
    # fresh profile costs LibreOffice a second or two on its first start.
    home = getattr(settings, "HOME", None)
    base = Path(home) if home else Path(tempfile.gettempdir()) / "entatio"
    return base / "office"


def office_command(profile: Path, port: int) -> list[str]:
    accept = (
        f"socket,host=127.0.0.1,port={port},tcpNoDelay=1;urp;"
        "StarOffice.ComponentContext"
    )
    return [
        ingest_setting("SOFFICE"),
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--invisible",
        "--nocrashreport",
        "--nodefault",
        "--nologo",
        "--nofirststartwizard",
        "--norestore",
        "--nolockcheck",
        f"--accept={accept}",
    ]


def bridge_command(port: int) -> list[str]:
    return [
        ingest_setting("UNO_PYTHON"),
        str(BRIDGE),
        "--port",
        str(port),
        "--library",
        unoserver_folder(),
        "--wait",
        str(START_TIMEOUT_SECONDS),
    ]


def unoserver_folder() -> str:
    spec = importlib.util.find_spec("unoserver")
    if spec is None or not spec.submodule_search_locations:
        raise OfficeUnavailable("the unoserver package is not installed")
    return str(Path(next(iter(spec.submodule_search_locations))).parent)


def start_process(command: list[str], **pipes) -> subprocess.Popen:
    try:
        return subprocess.Popen(
            command,
            stdin=pipes.get("stdin", subprocess.DEVNULL),
            stdout=pipes.get("stdout", subprocess.DEVNULL),
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as error:
        raise office_missing(command[0]) from error


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def uno_is_available() -> bool:
    """Whether the configured Python can import LibreOffice's uno module."""
    try:
        probe = subprocess.run(
            [ingest_setting("UNO_PYTHON"), "-c", "import uno"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


_pool: OfficePool | None = None
_pool_pid = 0
_pool_lock = threading.Lock()
_warm_refused = False


def shared_pool() -> OfficePool | None:
    """This process's pool, made on first use; None when it cannot be warm."""
    global _pool, _pool_pid, _warm_refused

    if not ingest_setting("OFFICE_WARM") or _warm_refused:
        return None
    with _pool_lock:
        # A forked child must not talk to its parent's offices.
        if _pool is not None and _pool_pid == os.getpid():
            return _pool
        if not uno_is_available():
            logger.warning(
                "LibreOffice is not kept warm: %s cannot import uno (install "
                "python3-uno); each deck starts an office of its own",
                ingest_setting("UNO_PYTHON"),
            )
            _warm_refused = True
            return None
        _pool = OfficePool(pool_size())
        _pool_pid = os.getpid()
        atexit.register(_pool.stop_all)
        return _pool


def pool_size() -> int:
    configured = ingest_setting("OFFICE_POOL_SIZE")
    return configured if configured > 0 else max(1, os.cpu_count() or 1)
