"""Office decks to PDF once per content: the stored PDF of a file seen before,
else LibreOffice, warm when it can be."""

import logging
import shutil
from pathlib import Path

from django.core.files import File
from django.db import IntegrityError, transaction

from entatio.ingest.config import ingest_setting
from entatio.ingest.models import ConvertedDeck
from entatio.ingest.office import convert_with_new_office, could_not_read
from entatio.ingest.office_pool import OfficeUnavailable, shared_pool

logger = logging.getLogger(__name__)


def deck_as_pdf(path: Path, content_hash: str, workdir: Path) -> Path:
    """The deck's PDF: the one kept for this content, or a new conversion."""
    target = workdir / "converted.pdf"
    if copy_kept_pdf(content_hash, target):
        return target

    convert_to_pdf(path, target)
    keep_pdf(content_hash, target)
    return target


def convert_to_pdf(path: Path, target: Path) -> None:
    """LibreOffice's PDF of one page per slide, hidden slides included."""
    timeout = ingest_setting("CONVERT_TIMEOUT_SECONDS")
    pool = shared_pool()
    try:
        if pool is None:
            convert_with_new_office(path, target, timeout)
        else:
            pool.convert(path, target, timeout)
    except OfficeUnavailable as error:
        logger.warning("Warm LibreOffice could not start (%s); running it once", error)
        convert_with_new_office(path, target, timeout)

    if not target.exists() or target.stat().st_size == 0:
        raise could_not_read()


def copy_kept_pdf(content_hash: str, target: Path) -> bool:
    kept = ConvertedDeck.objects.filter(content_hash=content_hash).first()
    if kept is None:
        return False
    try:
        with kept.pdf.open("rb") as stored, target.open("wb") as copy:
            shutil.copyfileobj(stored, copy)
    except OSError:
        # The file went missing from storage: forget it and convert again.
        logger.warning("Kept PDF %s is unreadable; converting again", kept.pdf.name)
        kept.delete()
        return False
    return True


def keep_pdf(content_hash: str, pdf: Path) -> None:
    deck = ConvertedDeck(content_hash=content_hash)
    with pdf.open("rb") as file:
        deck.pdf.save(f"{content_hash[:16]}.pdf", File(file), save=False)
    try:
        with transaction.atomic():
            deck.save()
    except IntegrityError:
        # Another worker converted the same file at the same time.
        deck.pdf.delete(save=False)
