"""PDF pages drawn as slides with pypdfium2, with each page's text."""

from contextlib import ExitStack
from functools import partial
from pathlib import Path

import pypdfium2 as pdfium

from entatio.ingest.config import ingest_setting
from entatio.ingest.drafts import DraftMaker, SlideDraft, clean_text, first_line
from entatio.ingest.images import encode_picture, is_blank
from entatio.ingest.problems import SAVE_AGAIN, UnreadableFile

# A page is drawn SLIDE_WIDTH wide; a very tall one (a long strip, a scroll)
# is capped at this many widths high so its image stays of sane size.
MAX_HEIGHT_IN_WIDTHS = 4


def open_pdf(path: Path) -> pdfium.PdfDocument:
    """The document, refused when unreadable, empty or over the page limit."""
    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as error:
        raise UnreadableFile(
            f"it is not a readable PDF ({error})", SAVE_AGAIN
        ) from error

    try:
        check_page_count(len(document))
    except UnreadableFile:
        document.close()
        raise
    return document


def check_page_count(pages: int) -> None:
    if pages == 0:
        raise UnreadableFile("it has no pages", SAVE_AGAIN)
    max_pages = ingest_setting("MAX_PAGES")
    if pages > max_pages:
        raise UnreadableFile(
            f"it has {pages:,} pages, more than the limit of {max_pages:,}",
            "split it into smaller files",
        )


def pdf_page_makers(path: Path, stack: ExitStack) -> list[DraftMaker]:
    """One maker per page; the document stays open until ``stack`` closes."""
    document = open_pdf(path)
    stack.callback(document.close)
    return [partial(page_slide, document, index) for index in range(len(document))]


def page_slide(document: pdfium.PdfDocument, index: int) -> SlideDraft:
    page = document[index]
    try:
        picture = encode_picture(draw_page(page))
        text = page_text(page)
    except pdfium.PdfiumError as error:
        raise UnreadableFile(
            f"page {index + 1} of it cannot be drawn ({error})", SAVE_AGAIN
        ) from error
    finally:
        page.close()
    return SlideDraft(picture=picture, text=text, title=first_line(text))


def draw_page(page: pdfium.PdfPage):
    """The page as a PIL image, upright as its /Rotate says, on white."""
    # get_size() already accounts for /Rotate, and render() applies it.
    width, height = page.get_size()
    target = ingest_setting("SLIDE_WIDTH")
    scale = target / max(width, 1.0)
    scale = min(scale, target * MAX_HEIGHT_IN_WIDTHS / max(height, 1.0))
    # RGB byte order straight from pdfium spares a conversion per page.
    bitmap = page.render(
        scale=scale, may_draw_forms=True, draw_annots=True, rev_byteorder=True
    )
    return bitmap.to_pil()


def page_text(page: pdfium.PdfPage) -> str:
    textpage = page.get_textpage()
    try:
        return clean_text(textpage.get_text_bounded())
    finally:
        textpage.close()


def all_pages_blank(path: Path) -> bool:
    """Whether every page draws as one flat colour (a tiny drawing each)."""
    document = open_pdf(path)
    try:
        for index in range(len(document)):
            page = document[index]
            try:
                width, _ = page.get_size()
                image = page.render(scale=48 / max(width, 1.0)).to_pil()
            finally:
                page.close()
            if not is_blank(image):
                return False
        return True
    finally:
        document.close()
