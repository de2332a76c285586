"""HTML as interactive slides: a page, or a ZIP of a site with its index.html.

The file is stored as uploaded and shown sandboxed by the viewer; here it
only gets a title, its text for search, and a card as its picture.
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
    """The title and the visible text of an HTML page."""

    SKIPPED = {"script", "style", "template", "noscript", "svg"}
    BREAKS = {"p", "div", "section", "h1", "h2", "h3", "h4", "li", "br", "tr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.lines: list[str] = [""]
        self.open_tags: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.BREAKS:
            self.lines.append("")
        self.open_tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open_tags:
            while self.open_tags.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if any(tag in self.SKIPPED for tag in self.open_tags):
            return
        if "title" in self.open_tags:
            self.title += data
            return
        self.lines[-1] += data

    def text(self) -> str:
        return clean_text("\n".join(" ".join(line.split()) for line in self.lines))


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
