"""LibreOffice kept warm: reuse, restart after a crash, time limits, one
conversion per content."""

import os
import signal
import time
from pathlib import Path

import pytest

from entatio.ingest import conversion
from entatio.ingest.imports import start_import
from entatio.ingest.models import ConvertedDeck
from entatio.ingest.office_pool import OfficePool, shared_pool, uno_is_available
from entatio.ingest.problems import UnreadableFile
from entatio.library.models import Source
from tests.test_ingest_inputs import make_deck

needs_warm_office = pytest.mark.skipif(
    not uno_is_available(), reason="python3-uno is not installed"
)


@pytest.fixture
def deck(tmp_path) -> Path:
    return make_deck(
        tmp_path / "deck.pptx", [{"title": "Hello", "body": "First"}, {"title": "Bye"}]
    )


def fake_program(folder: Path, name: str, script: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def is_gone(pid: int) -> bool:
    """Not running: no such process, or only a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


@pytest.mark.soffice
@needs_warm_office
def test_one_warm_office_converts_deck_after_deck(tmp_path, deck, portal):
    start_import(portal, deck, "deck.pptx")
    pool = shared_pool()
    assert pool is not None and pool.wait_until_warm(timeout=60)
    office = pool.idle[-1]
    pid, conversions = office.office.pid, office.conversions

    other = make_deck(tmp_path / "other.pptx", [{"title": "Other deck"}])
    source = start_import(portal, other, "other.pptx")

    source.refresh_from_db()
    assert source.status == Source.Status.READY
    assert pool.idle[-1] is office
    assert (office.office.pid, office.conversions) == (pid, conversions + 1)


@pytest.mark.soffice
@needs_warm_office
def test_a_crashed_office_is_replaced(tmp_path, deck, portal):
    start_import(portal, deck, "deck.pptx")
    pool = shared_pool()
    assert pool.wait_until_warm(timeout=60)
    crashed = pool.idle[-1]
    os.killpg(crashed.office.pid, signal.SIGKILL)
    crashed.office.wait()

    other = make_deck(tmp_path / "other.pptx", [{"title": "After the crash"}])
    source = start_import(portal, other, "other.pptx")

    source.refresh_from_db()
    assert source.status == Source.Status.READY, source.error
    assert "After the crash" in source.slides.get().text
    assert crashed not in pool.idle
    assert pool.wait_until_warm(timeout=60) and pool.idle[-1].is_alive()


@pytest.mark.soffice
def test_same_content_is_converted_once(tmp_path, deck, portal, monkeypatch):
    conversions = []
    real_convert = conversion.convert_to_pdf

    def counting_convert(path: Path, target: Path) -> None:
        conversions.append(path)
        real_convert(path, target)

    monkeypatch.setattr(conversion, "convert_to_pdf", counting_convert)

    first = start_import(portal, deck, "deck.pptx")
    again = start_import(portal, deck, "same deck, new name.pptx")

    assert len(conversions) == 1
    assert ConvertedDeck.objects.filter(content_hash=first.content_hash).count() == 1
    texts = [
        [s.text for s in src.slides.order_by("index_in_source")]
        for src in (first, again)
    ]
    assert texts[0] == texts[1]
    assert "Hello" in texts[0][0]


def test_hanging_office_is_killed_with_its_children(tmp_path, deck, portal, settings):
    pid_file = tmp_path / "child.pid"
    soffice = fake_program(
        tmp_path, "soffice", f"sleep 300 &\necho $! > {pid_file}\nsleep 300\n"
    )
    settings.ENTATIO = {
        **settings.ENTATIO,
        "SOFFICE": str(soffice),
        "OFFICE_WARM": False,
        "CONVERT_TIMEOUT_SECONDS": 1,
    }

    started = time.monotonic()
    source = start_import(portal, deck, "deck.pptx")

    assert time.monotonic() - started < 30
    source.refresh_from_db()
    assert source.status == Source.Status.FAILED
    assert "took longer than the limit of 1 seconds" in source.error
    assert is_gone(int(pid_file.read_text()))


@pytest.fixture
def own_pool():
    """A pool of this test's own, stopped whatever the test's outcome."""
    pool = OfficePool(size=1)
    yield pool
    pool.stop_all()


def test_warm_office_that_hangs_is_killed_and_refused(tmp_path, settings, own_pool):
    soffice = fake_program(tmp_path, "soffice", "sleep 300\n")
    bridge = fake_program(tmp_path, "python", "echo '{\"ready\": true}'\nsleep 300\n")
    settings.ENTATIO = {
        **settings.ENTATIO,
        "SOFFICE": str(soffice),
        "UNO_PYTHON": str(bridge),
    }
    settings.HOME = tmp_path
    pool = own_pool
    assert pool.warm_up_if_cold() and pool.wait_until_warm(timeout=10)

    with pytest.raises(UnreadableFile, match="took longer than the limit of 1"):
        pool.convert(tmp_path / "deck.pptx", tmp_path / "deck.pdf", timeout=1)

    assert pool.idle == [] and pool.running == 0


def test_warm_office_that_dies_on_a_file_is_replaced(tmp_path, settings, own_pool):
    soffice = fake_program(tmp_path, "soffice", "sleep 300\n")
    bridge = fake_program(
        tmp_path, "python", "echo '{\"ready\": true}'\nread request\nexit 1\n"
    )
    settings.ENTATIO = {
        **settings.ENTATIO,
        "SOFFICE": str(soffice),
        "UNO_PYTHON": str(bridge),
    }
    settings.HOME = tmp_path
    pool = own_pool
    assert pool.warm_up_if_cold() and pool.wait_until_warm(timeout=10)

    with pytest.raises(UnreadableFile, match="LibreOffice could not read it"):
        pool.convert(tmp_path / "deck.pptx", tmp_path / "deck.pdf", timeout=10)

    assert pool.idle == [] and pool.running == 0
