"""HTML as interactive slides: a page, or a ZIP of a site with its index.html.

The file is stored as uploaded and shown sandboxed by the viewer; here it
only gets a title, its text for search, the speaker's notes, and a card as
its picture.
"""

import zipfile
from html.parser import HTMLParser
from pathlib import Path

from entatio.ingest.archives import content_members, open_zip
from entatio.ingest.detect import EXTENSIONS, Kind
from entatio.ingest.drafts import SlideDraft, clean_text, first_line
from entatio.ingest.images import card_picture, stem_title
from entatio.library.models import Slide

# Read no more of a page than this for its title and text.
MAX_HTML_BYTES = 5 << 20


class PageText(HTMLParser):
    """The title, the visible text and the speaker notes of an HTML page."""

    SKIPPED = {"script", "style", "template", "noscript", "svg"}
    BREAKS = {"p", "div", "section", "h1", "h2", "h3", "h4", "li", "br", "tr"}
    # Classes that HTML slide tools (reveal.js, Shower, impress.js, Remark's
    # output) give the speaker's notes; the audience never sees them.
    NOTE_CLASSES = {"note", "notes", "speaker-notes", "speaker-note"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.lines: list[str] = [""]
        self.note_lines: list[str] = [""]
        self.open_tags: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        classes = set((dict(attrs).get("class") or "").lower().split())
        opens_note = bool(classes & self.NOTE_CLASSES)
        if tag in self.BREAKS or opens_note:
            self.current_lines().append("")
        self.open_tags.append((tag, opens_note))
        if opens_note:
            self.note_lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if any(name == tag for name, _ in self.open_tags):
            while self.open_tags.pop()[0] != tag:
                pass

    def handle_data(self, data: str) -> None:
        if any(name in self.SKIPPED for name, _ in self.open_tags):
            return
        if any(name == "title" for name, _ in self.open_tags):
            self.title += data
            return
        self.current_lines()[-1] += data

    def current_lines(self) -> list[str]:
        in_note = any(is_note for _, is_note in self.open_tags)
        return self.note_lines if in_note else self.lines

    def text(self) -> str:
        return joined_lines(self.lines)

    def notes(self) -> str:
        return joined_lines(self.note_lines)


def joined_lines(lines: list[str]) -> str:
    # Nested blocks open a line each; only lines with words are kept.
    words = (" ".join(line.split()) for line in lines)
    return clean_text("\n".join(line for line in words if line))


def html_slide(path: Path, name: str) -> SlideDraft:
    return page_slide(path.read_bytes()[:MAX_HTML_BYTES], path, Kind.HTML, name)


def html_zip_slide(path: Path, name: str) -> SlideDraft:
    with open_zip(path) as archive:
        index = index_member(archive)
        with archive.open(index) as page:
            html = page.read(MAX_HTML_BYTES)
    return page_slide(html, path, Kind.HTML_ZIP, name)


def index_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    members = content_members(archive)
    return min(
        (m for m in members if m.filename.rsplit("/", 1)[-1] == "index.html"),
        key=lambda member: member.filename.count("/"),
    )


def page_slide(html: bytes, path: Path, kind: Kind, name: str) -> SlideDraft:
    page = PageText()
    page.feed(decode_html(html))
    page.close()
    text = page.text()
    title = first_line(page.title) or first_line(text) or stem_title(name)
    return SlideDraft(
        kind=Slide.Kind.HTML,
        picture=card_picture(title, "Interactive page"),
        title=title,
        text=text,
        notes=page.notes(),
        media=path,
        media_extension=EXTENSIONS[kind],
    )


def decode_html(html: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return html.decode(encoding)
        except UnicodeDecodeError:
            continue
    return html.decode("latin-1")
