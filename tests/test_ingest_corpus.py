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


# A few strings each file is known to hold, in reading order of slides.
KNOWN_TEXT = {
    "pdf-tracemonkey-14p.pdf": {0: "Trace"},
    "pdf-chinese-indesign.pdf": {0: "的"},
    "pptx-japanese-gothic-table.pptx": {0: "日本語"},
    "ppt-cjk-mixed-fonts.ppt": {0: "の"},
    "ppt-slide-order.ppt": {1: "Third slide I added"},
    "pptx-sampleshow-notes.pptx": {0: "Title of the first slide"},
    "pdf-beamer-metropolis-25p.pdf": {0: "Metropolis"},
}


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
