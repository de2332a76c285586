"""What a file is, decided by its content: magic bytes, ZIP members, OLE streams.

Names lie (a text file called deck.pptx), so the name is never consulted.
"""

import re
import zipfile
from enum import StrEnum
from pathlib import Path

import olefile

from entatio.ingest.archives import content_members, open_zip
from entatio.ingest.problems import SAVE_AGAIN, SUPPORTED, UnreadableFile


class Kind(StrEnum):
    PDF = "pdf"
    PPTX = "pptx"
    PPT = "ppt"
    ODP = "odp"
    KEY = "key"
    PNG = "png"
    JPEG = "jpeg"
    GIF = "gif"
    WEBP = "webp"
    MP4 = "mp4"
    MOV = "mov"
    WEBM = "webm"
    HTML = "html"
    HTML_ZIP = "html-zip"
    MEDIA_ZIP = "media-zip"
    # An OLE container holding an encrypted OOXML package: known only once
    # decrypted, so never stored as a source's kind.
    ENCRYPTED_OFFICE = "encrypted-office"


OFFICE_KINDS = {Kind.PPTX, Kind.PPT, Kind.ODP, Kind.KEY}
IMAGE_KINDS = {Kind.PNG, Kind.JPEG, Kind.GIF, Kind.WEBP}
VIDEO_KINDS = {Kind.MP4, Kind.MOV, Kind.WEBM}
ZIP_KINDS = {Kind.PPTX, Kind.ODP, Kind.KEY, Kind.HTML_ZIP, Kind.MEDIA_ZIP}

EXTENSIONS = {
    Kind.PDF: "pdf",
    Kind.PPTX: "pptx",
    Kind.PPT: "ppt",
    Kind.ODP: "odp",
    Kind.KEY: "key",
    Kind.PNG: "png",
    Kind.JPEG: "jpg",
    Kind.GIF: "gif",
    Kind.WEBP: "webp",
    Kind.MP4: "mp4",
    Kind.MOV: "mov",
    Kind.WEBM: "webm",
    Kind.HTML: "html",
    Kind.HTML_ZIP: "zip",
    Kind.MEDIA_ZIP: "zip",
}

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"avif", b"avis"}
HTML_START = re.compile(
    rb"^(?:\s|<!--.*?-->|<\?xml[^>]*>)*<(?:!doctype\s+html|html|head|body|meta|title)\b",
    re.IGNORECASE | re.DOTALL,
)
ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.presentation": Kind.ODP,
    b"application/vnd.oasis.opendocument.presentation-template": Kind.ODP,
}
OTHER_DOCUMENTS = {
    "word/document.xml": "a Word document",
    "xl/workbook.xml": "an Excel workbook",
    "WordDocument": "a Word document",
    "Workbook": "an Excel workbook",
    "Book": "an Excel workbook",
}


def detect_kind(path: Path) -> Kind:
    """The kind of file at ``path``; raises UnreadableFile for anything else."""
    with path.open("rb") as file:
        head = file.read(8192)

    if not head:
        raise UnreadableFile("it is empty", "upload the file again")
    if b"%PDF-" in head[:1024]:
        return Kind.PDF
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return kind_of_zip(path)
    if head.startswith(OLE_MAGIC):
        return kind_of_ole(path)
    return kind_from_head(head)


def kind_from_head(head: bytes) -> Kind:
    """Images, videos and HTML, which their first bytes give away."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Kind.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return Kind.JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return Kind.GIF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return Kind.WEBP
    if head[4:8] == b"ftyp":
        return kind_of_iso_media(head[8:12])
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return Kind.MOV
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return kind_of_matroska(head)
    if looks_like_html(head):
        return Kind.HTML
    raise unknown_kind(head)


def kind_of_iso_media(brand: bytes) -> Kind:
    if brand in HEIF_BRANDS:
        raise UnreadableFile(
            "it is a HEIC or AVIF picture, which browsers cannot all show",
            "export it as JPEG or PNG and upload that",
        )
    return Kind.MOV if brand == b"qt  " else Kind.MP4


def kind_of_matroska(head: bytes) -> Kind:
    if b"webm" in head[:64]:
        return Kind.WEBM
    raise UnreadableFile(
        "it is a Matroska (MKV) video, which browsers cannot all play",
        "convert it to MP4 or WebM and upload that",
    )


def looks_like_html(head: bytes) -> bool:
    text = head.removeprefix(b"\xef\xbb\xbf")
    return b"\x00" not in text and bool(HTML_START.match(text))


def unknown_kind(head: bytes) -> UnreadableFile:
    if is_text(head):
        return UnreadableFile(
            "its content is plain text, not a presentation", SUPPORTED
        )
    return UnreadableFile("its content is of a type Entatio does not import", SUPPORTED)


def is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        if error.start < len(head) - 4:
            return False
    return b"\x00" not in head


def kind_of_zip(path: Path) -> Kind:
    with open_zip(path) as archive:
        names = set(archive.namelist())
        if "mimetype" in names:
            return kind_of_odf(archive.read("mimetype")[:100].strip())
        if "ppt/presentation.xml" in names:
            return Kind.PPTX
        if any(
            n.endswith(("index.apxl", "index.apxl.gz", "Index/Document.iwa"))
            for n in names
        ):
            return Kind.KEY
        refuse_other_document(names)
        if has_index_html(archive):
            return Kind.HTML_ZIP
        if not content_members(archive):
            raise UnreadableFile(
                "the archive holds no files", "add the files and zip it again"
            )
        return Kind.MEDIA_ZIP


def kind_of_odf(mimetype: bytes) -> Kind:
    if mimetype in ODF_MIMETYPES:
        return ODF_MIMETYPES[mimetype]
    raise UnreadableFile(
        f"it is an OpenDocument file of type {mimetype.decode('ascii', 'replace')}, "
        "not a presentation",
        "save it as an OpenDocument presentation (ODP) or as PDF",
    )


def has_index_html(archive: zipfile.ZipFile) -> bool:
    """An index.html at the top, or in the one folder that holds everything."""
    names = [m.filename for m in content_members(archive)]
    if "index.html" in names:
        return True
    tops = {name.split("/", 1)[0] for name in names}
    return len(tops) == 1 and f"{tops.pop()}/index.html" in names


def kind_of_ole(path: Path) -> Kind:
    try:
        with olefile.OleFileIO(str(path)) as container:
            streams = {"/".join(entry) for entry in container.listdir()}
    except (OSError, ValueError, IndexError, RecursionError) as error:
        raise UnreadableFile("its structure is damaged", SAVE_AGAIN) from error

    if "EncryptedPackage" in streams:
        return Kind.ENCRYPTED_OFFICE
    if "PowerPoint Document" in streams:
        return Kind.PPT
    refuse_other_document(streams)
    raise UnreadableFile("it is an Office file but not a presentation", SUPPORTED)


def refuse_other_document(names: set[str]) -> None:
    for marker, what in OTHER_DOCUMENTS.items():
        if marker in names:
            raise UnreadableFile(
                f"it is {what}, not a presentation",
                "save it as PDF and upload that",
            )
