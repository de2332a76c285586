"""The quick checks at upload: what can be refused before anything is stored."""

from pathlib import Path

from entatio.ingest.archives import open_zip
from entatio.ingest.decks import read_deck_slides
from entatio.ingest.detect import IMAGE_KINDS, VIDEO_KINDS, Kind
from entatio.ingest.html_pages import index_member
from entatio.ingest.images import check_image
from entatio.ingest.pdf_pages import open_pdf
from entatio.ingest.videos import check_video


def check_file(path: Path, kind: Kind) -> None:
    """Refuse, with UnreadableFile, what would surely fail later."""
    if kind is Kind.PDF:
        open_pdf(path).close()
    elif kind in (Kind.PPTX, Kind.ODP):
        read_deck_slides(path, kind)
    elif kind in IMAGE_KINDS:
        check_image(path)
    elif kind in VIDEO_KINDS:
        check_video(path)
    elif kind is Kind.HTML_ZIP:
        with open_zip(path) as archive:
            index_member(archive)
