"""What slides a file makes: one maker per slide, each run when its turn comes.

Making the list is quick (a PDF opened, a deck converted); drawing each slide
is the slow part, and the caller tells progress between them.
"""

import hashlib
import logging
from contextlib import ExitStack
from functools import partial
from pathlib import Path

from entatio.ingest.archives import content_members, extract_member, open_zip
from entatio.ingest.checks import check_file
from entatio.ingest.conversion import deck_as_pdf
from entatio.ingest.decks import DeckSlide, read_deck_slides
from entatio.ingest.detect import (
    IMAGE_KINDS,
    OFFICE_KINDS,
    VIDEO_KINDS,
    Kind,
    detect_kind,
)
from entatio.ingest.drafts import DraftMaker, SlideDraft
from entatio.ingest.html_pages import html_slide, html_zip_slide
from entatio.ingest.images import card_picture, image_slide
from entatio.ingest.pdf_pages import all_pages_blank, check_page_count, pdf_page_makers
from entatio.ingest.problems import UnreadableFile
from entatio.ingest.videos import embedded_video, video_slide

logger = logging.getLogger(__name__)


def plan_slides(
    path: Path,
    kind: Kind,
    name: str,
    content_hash: str,
    workdir: Path,
    stack: ExitStack,
) -> list[DraftMaker]:
    """The makers of the file's slides, in order; files stay open in ``stack``."""
    if kind is Kind.MEDIA_ZIP:
        makers = media_zip_makers(path, workdir, stack)
    else:
        makers = single_file_makers(path, kind, name, content_hash, workdir, stack)

    if not makers:
        raise UnreadableFile("it makes no slides", "check that it has content")
    check_page_count(len(makers))
    return makers


def single_file_makers(
    path: Path,
    kind: Kind,
    name: str,
    content_hash: str,
    workdir: Path,
    stack: ExitStack,
) -> list[DraftMaker]:
    if kind is Kind.PDF:
        return pdf_page_makers(path, stack)
    if kind in OFFICE_KINDS:
        return deck_makers(path, kind, content_hash, workdir, stack)
    if kind in IMAGE_KINDS:
        return [partial(image_slide, path, name)]
    if kind in VIDEO_KINDS:
        return [partial(video_slide, path, kind, name)]
    if kind is Kind.HTML:
        return [partial(html_slide, path, name)]
    if kind is Kind.HTML_ZIP:
        return [partial(html_zip_slide, path, name)]
    raise UnreadableFile(f"files of kind {kind} cannot be made into slides", "")


def deck_makers(
    path: Path, kind: Kind, content_hash: str, workdir: Path, stack: ExitStack
) -> list[DraftMaker]:
    """Pages of LibreOffice's PDF, with titles, notes and hidden flags added."""
    details = read_deck_slides(path, kind)
    pdf = deck_as_pdf(path, content_hash, workdir)
    makers = pdf_page_makers(pdf, stack)
    if all_pages_blank(pdf):
        logger.warning(
            "LibreOffice drew all %d slides of %s blank; text cards stand in",
            len(makers),
            path.name,
        )
        return [partial(card_slide, i, details) for i in range(len(makers))]
    if details is None:
        return makers

    if len(details) != len(makers):
        logger.warning(
            "Deck %s has %d slides but its PDF %d pages; titles and notes left out",
            path.name,
            len(details),
            len(makers),
        )
        return makers
    return [
        partial(with_deck_details, m, d, path, workdir)
        for m, d in zip(makers, details, strict=True)
    ]


def with_deck_details(
    make: DraftMaker, details: DeckSlide, deck: Path, workdir: Path
) -> SlideDraft:
    draft = make()
    if details.video:
        embedded_video(draft, deck, details.video, workdir)
    # The deck's own title, or none: the page's first line is often a date
    # or a chart label in the master.
    draft.title = details.title
    # Speaker notes are the presenter's own; the audience reads the
    # description, which an author writes for them.
    draft.notes = details.notes
    draft.hidden = details.hidden
    draft.text = draft.text or details.text
    return draft


def card_slide(index: int, details: list[DeckSlide] | None) -> SlideDraft:
    """A slide LibreOffice could not draw, shown as its title and text."""
    deck_slide = details[index] if details and index < len(details) else None
    title = deck_slide.title if deck_slide else ""
    text = deck_slide.text if deck_slide else ""
    label = "This slide could not be drawn; here is its text"
    return SlideDraft(
        picture=card_picture(title or f"Slide {index + 1}", label, text),
        title=title,
        text=text,
        hidden=deck_slide.hidden if deck_slide else False,
    )


def media_zip_makers(path: Path, workdir: Path, stack: ExitStack) -> list[DraftMaker]:
    """Every file of the archive as slides, in natural order of the names."""
    archive = stack.enter_context(open_zip(path))
    folder = workdir / "members"
    folder.mkdir()

    makers: list[DraftMaker] = []
    for member in content_members(archive):
        member_path = extract_member(archive, member, folder)
        try:
            makers += member_makers(member_path, member.filename, workdir, stack)
        except UnreadableFile as problem:
            raise UnreadableFile(
                f"{member.filename} inside it cannot be used: {problem.reason}",
                problem.advice or "take it out of the archive and zip it again",
            ) from problem
        check_page_count(len(makers))
    return makers


def member_makers(
    path: Path, name: str, workdir: Path, stack: ExitStack
) -> list[DraftMaker]:
    kind = detect_kind(path)
    if kind in (Kind.MEDIA_ZIP, Kind.HTML_ZIP, Kind.ENCRYPTED_OFFICE):
        raise UnreadableFile(
            "archives inside the archive and protected files are not unpacked",
            "upload that file on its own",
        )
    check_file(path, kind)

    # Each member gets a folder of its own for what converting it makes.
    member_workdir = workdir / f"{path.stem}-work"
    member_workdir.mkdir()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return single_file_makers(path, kind, name, digest, member_workdir, stack)
