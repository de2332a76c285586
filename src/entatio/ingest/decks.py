"""What the deck file itself says about its slides: titles, notes, hidden.

LibreOffice's PDF carries the pictures and text; titles, speaker notes and
hidden flags are only in the deck (python-pptx for PPTX, the ODF XML for ODP).
"""

import logging
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pptx.package import Package

from entatio.ingest.detect import Kind
from entatio.ingest.drafts import clean_text, first_line
from entatio.ingest.problems import UnreadableFile

logger = logging.getLogger(__name__)

# Placeholders that repeat on every slide and say nothing about it.
FURNITURE = {PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER}

DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
PRESENTATION = "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


@dataclass(frozen=True)
class DeckSlide:
    title: str
    text: str
    notes: str
    hidden: bool


def read_deck_slides(path: Path, kind: Kind) -> list[DeckSlide] | None:
    """The deck's own account of its slides; None where it cannot be read.

    A deck that is readable and has no slides is refused: LibreOffice would
    turn it into one blank page.
    """
    try:
        slides = read_slides_by_kind(path, kind)
    except UnreadableFile:
        raise
    except Exception as error:
        # LibreOffice opens decks that these readers find fault with; the
        # slides then come without titles and notes rather than not at all.
        logger.info("Deck details unreadable in %s: %r", path.name, error)
        return None

    if slides is not None and not slides:
        raise UnreadableFile(
            "it contains no slides", "add slides to the deck and upload it again"
        )
    return slides


def read_slides_by_kind(path: Path, kind: Kind) -> list[DeckSlide] | None:
    if kind is Kind.PPTX:
        return read_pptx_slides(path)
    if kind is Kind.ODP:
        return read_odp_slides(path)
    return None


def read_pptx_slides(path: Path) -> list[DeckSlide]:
    # Opened through the package so that shows (.ppsx) and templates read
    # too, which python-pptx's Presentation() turns away.
    presentation = Package.open(str(path)).main_document_part.presentation
    return [pptx_slide(slide) for slide in presentation.slides]


def pptx_slide(slide) -> DeckSlide:
    text = clean_text("\n".join(shape_texts(slide.shapes)))
    title_shape = slide.shapes.title
    title = first_line(title_shape.text_frame.text) if title_shape is not None else ""
    return DeckSlide(
        title=title or first_line(text),
        text=text,
        notes=pptx_notes(slide),
        # PowerPoint writes show="0" on a hidden slide; absent means shown.
        hidden=slide.element.get("show") in ("0", "false"),
    )


def shape_texts(shapes) -> list[str]:
    texts = []
    for shape in shapes:
        if is_group(shape):
            texts.extend(shape_texts(shape.shapes))
        elif is_furniture(shape):
            continue
        elif shape.has_text_frame:
            texts.append(shape.text_frame.text)
        elif shape.has_table:
            texts.extend(cell.text for row in shape.table.rows for cell in row.cells)
    return texts


def is_furniture(shape) -> bool:
    return shape.is_placeholder and shape.placeholder_format.type in FURNITURE


def is_group(shape) -> bool:
    try:
        return shape.shape_type == MSO_SHAPE_TYPE.GROUP
    except NotImplementedError:
        # python-pptx names no type for some graphic frames; none is a group.
        return False


def pptx_notes(slide) -> str:
    if not slide.has_notes_slide:
        return ""
    frame = slide.notes_slide.notes_text_frame
    return clean_text(frame.text) if frame is not None else ""


def read_odp_slides(path: Path) -> list[DeckSlide]:
    with zipfile.ZipFile(path) as archive, archive.open("content.xml") as content:
        root = ET.parse(content).getroot()
    pages = root.iter(f"{{{DRAW}}}page")
    return [odp_slide(page) for page in pages]


def odp_slide(page: ET.Element) -> DeckSlide:
    notes_element = page.find(f"{{{PRESENTATION}}}notes")
    notes = odf_text(notes_element) if notes_element is not None else ""
    if notes_element is not None:
        page.remove(notes_element)

    title = ""
    for frame in page.iter(f"{{{DRAW}}}frame"):
        if frame.get(f"{{{PRESENTATION}}}class") == "title":
            title = first_line(odf_text(frame))
            break

    text = odf_text(page)
    return DeckSlide(
        title=title or first_line(text),
        text=text,
        notes=notes,
        hidden=page.get(f"{{{PRESENTATION}}}visibility") == "hidden",
    )


def odf_text(element: ET.Element) -> str:
    """Text of the paragraphs and headings under ``element``, a line each."""
    lines = []
    for node in element.iter():
        if node.tag in (f"{{{TEXT}}}p", f"{{{TEXT}}}h"):
            lines.append("".join(node.itertext()))
    return clean_text("\n".join(lines))
