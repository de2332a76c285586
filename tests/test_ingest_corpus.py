"""Every file of the shared corpus through the import, as its manifest says."""

from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image, ImageStat

from entatio.ingest.imports import ImportRefused, start_import
from entatio.library.models import Presentation, Slide, Source
from tests.shared import corpus_dir, corpus_manifest


def corpus_rows(wanted) -> list[dict[str, str]]:
    """Manifest rows for parametrize; none (so skipped) without the corpus."""
    try:
        rows = corpus_manifest()
    except pytest.skip.Exception:
        return []
    return [row for row in rows if wanted(row)]


def imports(row: dict[str, str]) -> bool:
    return row["slides"].isdigit() and not row["password"]


def refused(row: dict[str, str]) -> bool:
    return row["slides"] == "refuse"


def protected(row: dict[str, str]) -> bool:
    return bool(row["password"])


# A few strings each file is known to hold, by slide index.
KNOWN_TEXT = {
    "pdf-tracemonkey-14p.pdf": {0: "Trace"},
    "pdf-chinese-indesign.pdf": {0: "社会主义核心价值体系"},
    "pdf-beamer-metropolis-25p.pdf": {0: "metropolis"},
    "pdf-elsie-slides-37p.pdf": {0: "Elsie"},
    "pdf-encrypted-empty-userpw-41p.pdf": {0: "RETHINKING THE FINANCIAL NETWORK"},
    "pdf-xref-keyword-missing.pdf": {0: "Reduced test-case"},
    "pdf-rotations-0-90-180-270.pdf": {0: "cell[0][0]", 3: "cell[7][0]"},
    "pdf-a0-rotated-plan.pdf": {0: "SURVEYORS"},
    "pptx-japanese-gothic-table.pptx": {0: "尾崎"},
    "pptx-sampleshow-notes.pptx": {0: "Title of the first slide"},
    "pptx-huge-slide-size.pptx": {0: "Go/NoGo"},
    "pptx-themes-4x3.pptx": {9: "White text on a blue background"},
    "ppt-cjk-mixed-fonts.ppt": {0: "複数の文字"},
    "ppt-slide-order.ppt": {1: "Third slide I added", 2: "Second slide I added"},
    "odp-libreoffice-13.odp": {0: "An example Impress file"},
    "key-keynote09.key": {0: "A sample"},
    "html-shower-ribbon-deck.html": {0: "Presentation Title"},
}

# What else a file's slides must show: slide index, field, value.
KNOWN_FIELDS = {
    "pptx-hidden-notes-chart-smartart.pptx": [
        (8, "hidden", True),
        (7, "hidden", False),
        (1, "title", "Slide2Header"),
        (1, "notes", "NotesForSlide2"),
        (1, "description", ""),
    ],
    "pptx-sampleshow-notes.pptx": [
        (0, "title", "Title of the first slide"),
        (0, "notes", "I am the notes of the first slide"),
    ],
    "img-exif-orientation-6.jpg": [(0, "kind", "image"), (0, "width", 1600)],
    "img-rgba-transparent.png": [(0, "kind", "image"), (0, "width", 312)],
    "video-h264-portrait-7s.mp4": [(0, "kind", "video"), (0, "width", 312)],
    "video-vp8-vorbis-1s.webm": [(0, "kind", "video")],
    "html-shower-ribbon-deck.html": [
        (0, "kind", "html"),
        (0, "notes", "Echo Park 8-bit sustainable umami deep v Kickstarter."),
    ],
    "pptx-embedded-video.pptx": [(0, "kind", "video")],
}

# Slides drawn landscape whatever their page box says (/Rotate honoured).
LANDSCAPE = {"pdf-a0-rotated-plan.pdf", "img-exif-orientation-6.jpg"}
DURATIONS = {"video-h264-portrait-7s.mp4": 7.16, "video-vp8-vorbis-1s.webm": 1.18}


def media_files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT)
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def is_flat(image_field) -> bool:
    with image_field.open("rb") as file, Image.open(file) as image:
        low, high = ImageStat.Stat(image.convert("L")).extrema[0]
    return high - low < 16


@pytest.mark.parametrize("row", corpus_rows(imports), ids=lambda row: row["file"])
def test_corpus_file_imports_with_its_slide_count(row, portal, author):
    path = corpus_dir() / row["file"]

    source = start_import(portal, path, row["file"], uploaded_by=author)

    source.refresh_from_db()
    assert source.status == Source.Status.READY, source.error
    slides = list(source.slides.order_by("index_in_source"))
    assert len(slides) == int(row["slides"])
    assert source.progress_done == source.progress_total == len(slides)
    presentation = Presentation.objects.get(source=source)
    assert presentation.places.count() == len(slides)
    assert [s for s in slides if is_flat(s.image)] == []
    for index, text in KNOWN_TEXT.get(row["file"], {}).items():
        assert text in slides[index].text
    for index, field, value in KNOWN_FIELDS.get(row["file"], []):
        assert getattr(slides[index], field) == value
    if row["file"] in LANDSCAPE:
        assert slides[0].width > slides[0].height
    if row["file"] in DURATIONS:
        assert slides[0].duration_seconds == pytest.approx(DURATIONS[row["file"]], 0.02)
        assert slides[0].media.size == path.stat().st_size


@pytest.mark.parametrize("row", corpus_rows(refused), ids=lambda row: row["file"])
def test_corpus_file_is_refused_leaving_nothing(row, portal, author):
    path = corpus_dir() / row["file"]
    files_before = media_files()

    with pytest.raises(ImportRefused) as refusal:
        start_import(portal, path, row["file"], uploaded_by=author)

    assert row["file"] in str(refusal.value)
    assert not refusal.value.needs_password
    assert Source.objects.count() == Slide.objects.count() == 0
    assert Presentation.objects.count() == 0
    assert media_files() == files_before


@pytest.mark.parametrize("row", corpus_rows(protected), ids=lambda row: row["file"])
def test_corpus_file_needs_its_password(row, portal, author):
    path = corpus_dir() / row["file"]

    with pytest.raises(ImportRefused) as refusal:
        start_import(portal, path, row["file"], uploaded_by=author)
    assert refusal.value.needs_password
    assert row["file"] in str(refusal.value)
    assert Source.objects.count() == 0

    with pytest.raises(ImportRefused) as wrong:
        start_import(portal, path, row["file"], password="not-" + row["password"])
    assert wrong.value.needs_password

    source = start_import(portal, path, row["file"], password=row["password"])
    source.refresh_from_db()
    assert source.status == Source.Status.READY, source.error
    assert source.slides.count() == int(row["slides"])
