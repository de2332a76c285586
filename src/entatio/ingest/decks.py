"""What the deck file itself says about its slides: titles, notes, hidden.

LibreOffice's PDF carries the pictures and text; titles, speaker notes and
hidden flags are only in the deck (python-pptx for PPTX, the ODF XML for ODP,
the text records of a legacy PPT, for which no kept Python library exists).
"""

import logging
import struct
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

import olefile
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pptx.oxml.ns import qn
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
    # Where in the deck's package the slide's embedded video is, if it has one.
    video: str = ""


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
    if kind is Kind.PPT:
        return read_ppt_slides(path)
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
        video=pptx_embedded_video(slide),
    )


def pptx_embedded_video(slide) -> str:
    """The package part of the first video embedded in the slide, or ""."""
    for video_file in slide.element.iter(qn("a:videoFile")):
        relationship = slide.part.rels.get(video_file.get(qn("r:link")))
        # A linked video lives beside the deck on its author's disk; only
        # one carried inside the file can be played here.
        if relationship is not None and not relationship.is_external:
            return str(relationship.target_part.partname).lstrip("/")
    return ""


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


# Records of the binary PowerPoint format (MS-PPT) that hold slide text.
PPT_DOCUMENT = 0x03E8
PPT_SLIDE_LIST = 0x0FF0
PPT_SLIDE_PERSIST = 0x03F3
PPT_TEXT_HEADER = 0x0F9F
PPT_TEXT_CHARS = 0x0FA0
PPT_TEXT_BYTES = 0x0FA8
PPT_TITLE_TYPES = {0, 6}


def read_ppt_slides(path: Path) -> list[DeckSlide] | None:
    """Slide texts from the last document record; None if there is none.

    A PPT saved quickly appends a new document record at each save; the last
    one is the deck as it was last saved.
    """
    with olefile.OleFileIO(str(path)) as container:
        stream = container.openstream("PowerPoint Document").read()

    documents = [body for kind, _, body in ppt_records(stream) if kind == PPT_DOCUMENT]
    if not documents:
        return None
    for kind, instance, body in ppt_records(documents[-1]):
        if kind == PPT_SLIDE_LIST and instance == 0:
            return ppt_slide_texts(body)
    return None


def ppt_records(data: bytes):
    """(type, instance, body) of each record directly inside ``data``."""
    offset = 0
    while offset + 8 <= len(data):
        version_instance, kind, length = struct.unpack_from("<HHI", data, offset)
        body = data[offset + 8 : offset + 8 + length]
        yield kind, version_instance >> 4, body
        offset += 8 + length


def ppt_slide_texts(slide_list: bytes) -> list[DeckSlide]:
    """Each slide's title and text: a persist record starts a slide."""
    slides: list[tuple[str, list[str]]] = []
    text_type = -1
    for kind, _, body in ppt_records(slide_list):
        if kind == PPT_SLIDE_PERSIST:
            slides.append(("", []))
        elif kind == PPT_TEXT_HEADER and len(body) >= 4:
            text_type = struct.unpack_from("<I", body)[0]
        elif kind in (PPT_TEXT_CHARS, PPT_TEXT_BYTES) and slides:
            encoding = "utf-16-le" if kind == PPT_TEXT_CHARS else "cp1252"
            text = clean_text(body.decode(encoding, "replace").replace("\v", "\n"))
            title, lines = slides[-1]
            if text_type in PPT_TITLE_TYPES and not title:
                title = first_line(text)
            slides[-1] = (title, [*lines, text])

    return [
        DeckSlide(
            title=title or first_line("\n".join(lines)),
            text="\n".join(lines),
            notes="",
            hidden=False,
        )
        for title, lines in slides
    ]
