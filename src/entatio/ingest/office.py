"""Headless LibreOffice: one run per file, and what every way of running it shares."""

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from entatio.ingest.config import ingest_setting
from entatio.ingest.problems import SAVE_AGAIN, UnreadableFile

logger = logging.getLogger(__name__)

PDF_FILTER = "impress_pdf_Export"
# Hidden slides are imported too (marked hidden), so they must be in the PDF.
PDF_OPTIONS = ["ExportHiddenSlides=true"]
COMMAND_LINE_FILTER = (
    'pdf:impress_pdf_Export:{"ExportHiddenSlides":{"type":"boolean","value":"true"}}'
)


def convert_with_new_office(
    path: Path, target: Path, timeout: float, profile: Path | None = None
) -> None:
    """One LibreOffice run for this file alone, in a profile no other uses.

    Without ``profile`` a throwaway one is made, which costs the run a second
    or so more than one kept from earlier runs.
    """
    with tempfile.TemporaryDirectory(prefix="entatio-office-") as scratch:
        profile = profile or Path(scratch) / "profile"
        out_dir = Path(scratch) / "out"
        command = [
            ingest_setting("SOFFICE"),
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--convert-to",
            COMMAND_LINE_FILTER,
            "--outdir",
            str(out_dir),
            str(path),
        ]
        output = run_within(command, timeout)

        made = out_dir / f"{path.stem}.pdf"
        if not made.exists():
            logger.info("LibreOffice made no PDF of %s: %s", path.name, output[-500:])
            raise could_not_read()
        shutil.move(made, target)


def run_within(command: list[str], timeout: float) -> str:
    """Run to the end or, past ``timeout``, kill it with all its children."""
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as error:
        raise office_missing(command[0]) from error

    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process.pid)
        process.communicate()
        raise too_slow(timeout) from None
    return output.decode("utf-8", "replace")


def kill_group(pid: int) -> None:
    # soffice is a launcher script whose office runs as a child; only the
    # whole process group is sure to take both down.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def could_not_read() -> UnreadableFile:
    return UnreadableFile("LibreOffice could not read it", SAVE_AGAIN)


def too_slow(timeout: float) -> UnreadableFile:
    return UnreadableFile(
        f"converting it took longer than the limit of {timeout:.0f} seconds",
        "split the deck or make its pictures smaller, then upload it again",
    )


def office_missing(program: str) -> UnreadableFile:
    logger.error("LibreOffice cannot be started: %s is not installed", program)
    return UnreadableFile(
        "LibreOffice, which converts decks, is not installed on the server",
        "upload the deck as PDF, or ask the operators to install LibreOffice",
    )
