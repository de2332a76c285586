"""Every kind of media, and every bad file a user may throw at the import."""

import io
import os
import zipfile
from pathlib import Path

import pytest

from entatio.ingest.imports import ImportRefused, start_import
from entatio.library.models import Presentation, Slide, Source
from tests.test_ingest_inputs import (
    make_deck,
    make_image_pdf,
    make_pdf,
    make_video,
    make_zip,
    png_bytes,
)


@pytest.fixture
def limits(settings):
    """Change ingest limits for one test."""

    def change(**values) -> None:
        settings.ENTATIO = {**settings.ENTATIO, **values}

    return change


def refusal_of(portal, path: Path, name: str | None = None) -> str:
    with pytest.raises(ImportRefused) as refusal:
        start_import(portal, path, name or path.name)
    assert Source.objects.count() == Slide.objects.count() == 0
    assert Presentation.objects.count() == 0
    return str(refusal.value)


def test_media_zip_makes_a_slide_of_every_file_in_natural_order(tmp_path, portal):
    video = make_video(tmp_path / "clip.mp4", seconds=1).read_bytes()
    archive = make_zip(
        tmp_path / "photos.zip",
        {
            "trip/slide10.png": png_bytes(colour=(10, 10, 200)),
            "trip/slide2.png": png_bytes(colour=(200, 10, 10)),
            "trip/slide1.mp4": video,
            "__MACOSX/trip/._slide1.mp4": b"resource fork",
            "trip/.DS_Store": b"junk",
        },
    )

    source = start_import(portal, archive, "photos.zip")

    source.refresh_from_db()
    assert (source.status, source.kind) == ("ready", "media-zip")
    slides = list(source.slides.order_by("index_in_source"))
    assert [(s.kind, s.title) for s in slides] == [
        ("video", "slide1"),
        ("image", "slide2"),
        ("image", "slide10"),
    ]
    assert slides[0].duration_seconds == pytest.approx(1.0, abs=0.15)
    assert slides[0].media.name.endswith(".mp4")


def test_html_page_is_one_interactive_slide_kept_as_uploaded(tmp_path, portal):
    page = (
        b"<!DOCTYPE html><html><head><title>Pricing calculator</title>"
        b"<script>var secret = 1;</script></head>"
        b"<body><h1>Work out your plan</h1><p>Seats and storage</p></body></html>"
    )
    (tmp_path / "calc.html").write_bytes(page)

    source = start_import(portal, tmp_path / "calc.html", "calc.html")

    slide = Slide.objects.get(source=source)
    assert (slide.kind, slide.title) == ("html", "Pricing calculator")
    assert slide.text == "Work out your plan\nSeats and storage"
    with slide.media.open("rb") as media:
        assert media.read() == page
    assert slide.image and slide.thumbnail


def test_html_speaker_notes_are_notes_not_slide_text(tmp_path, portal):
    page = (
        b"<html><body><section><h2>Roadmap</h2><p>Three releases</p>"
        b'<aside class="notes">Mention the <b>beta</b> dates</aside></section>'
        b'<section><p>Questions</p><p class="note">Leave ten minutes</p>'
        b"</section></body></html>"
    )
    (tmp_path / "reveal.html").write_bytes(page)

    source = start_import(portal, tmp_path / "reveal.html", "reveal.html")

    slide = Slide.objects.get(source=source)
    assert slide.text == "Roadmap\nThree releases\nQuestions"
    assert slide.notes == "Mention the beta dates\nLeave ten minutes"


def test_zip_with_index_html_is_one_interactive_slide(tmp_path, portal):
    archive = make_zip(
        tmp_path / "site.zip",
        {
            "site/index.html": b"<html><title>Tour</title><body>Step one</body></html>",
            "site/app.js": b"console.log(1)",
        },
    )

    source = start_import(portal, archive, "site.zip")

    slide = Slide.objects.get(source=source)
    assert (source.kind, slide.kind, slide.title) == ("html-zip", "html", "Tour")
    assert slide.media.name.endswith(".zip")
    assert slide.media.size == archive.stat().st_size


def test_video_keeps_the_upload_and_gets_poster_and_duration(tmp_path, portal):
    video = make_video(tmp_path / "demo.mov", seconds=2, size=(80, 60))

    source = start_import(portal, video, "demo.mov")

    slide = Slide.objects.get(source=source)
    assert (slide.kind, slide.width, slide.height) == ("video", 80, 60)
    assert slide.duration_seconds == pytest.approx(2.0, abs=0.15)
    assert slide.media.read() == video.read_bytes()


def test_video_over_the_length_limit_is_refused(tmp_path, portal, limits):
    limits(VIDEO_MAX_SECONDS=60)
    video = make_video(tmp_path / "long.mp4", seconds=61, size=(16, 16), rate=2)

    message = refusal_of(portal, video)

    assert "plays 1 minutes, longer than the limit of 1 minutes" in message


def test_truncated_video_is_refused(tmp_path, portal):
    whole = make_video(tmp_path / "whole.mp4", seconds=2).read_bytes()
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) // 2])

    assert "the video is damaged or cut short" in refusal_of(
        portal, tmp_path / "cut.mp4"
    )


def test_truncated_image_is_refused(tmp_path, portal):
    (tmp_path / "cut.png").write_bytes(png_bytes((300, 300))[:400])

    assert "the image is damaged or cut short" in refusal_of(
        portal, tmp_path / "cut.png"
    )


def test_image_over_the_pixel_limit_is_refused(tmp_path, portal, limits):
    limits(MAX_IMAGE_PIXELS=10_000)
    (tmp_path / "huge.png").write_bytes(png_bytes((200, 100)))

    message = refusal_of(portal, tmp_path / "huge.png")

    assert "more pixels (200 by 100) than the limit" in message


def test_pdf_with_thousands_of_pages_is_refused(tmp_path, portal):
    pdf = make_pdf(tmp_path / "phonebook.pdf", pages=2001)

    message = refusal_of(portal, pdf)

    assert "it has 2,001 pages, more than the limit of 2,000" in message


def test_decompression_bomb_is_refused(tmp_path, portal):
    archive = make_zip(tmp_path / "bomb.zip", {"zeros.png": bytes(64 << 20)})

    message = refusal_of(portal, archive)

    assert "decompression bomb" in message
    assert "zeros.png" in message


def test_zip_over_the_unpacked_size_limit_is_refused(tmp_path, portal, limits):
    limits(ZIP_MAX_UNCOMPRESSED_BYTES=1000)
    archive = make_zip(tmp_path / "big.zip", {"a.png": os.urandom(5000)})

    assert "would unpack to" in refusal_of(portal, archive)


def test_zip_with_too_many_files_is_refused(tmp_path, portal, limits):
    limits(ZIP_MAX_FILES=3)
    members = {f"p{i}.png": png_bytes() for i in range(4)}
    archive = make_zip(tmp_path / "many.zip", members)

    assert "it holds 4 files, more than the limit of 3" in refusal_of(portal, archive)


@pytest.mark.parametrize(
    "name", ["../../etc/evil.png", "/abs/evil.png", "a/../../b.png"]
)
def test_zip_with_a_path_out_of_it_is_refused(tmp_path, portal, name):
    archive = make_zip(
        tmp_path / "escape.zip", {"ok.png": png_bytes(), name: png_bytes()}
    )

    assert "a path that leads outside the archive" in refusal_of(portal, archive)


def test_zip_with_a_link_is_refused(tmp_path, portal):
    archive = make_zip(
        tmp_path / "link.zip", {"ok.png": png_bytes()}, **{"passwd.png": "/etc/passwd"}
    )

    assert "it contains a link (passwd.png)" in refusal_of(portal, archive)


def test_member_of_unknown_kind_is_named(tmp_path, portal):
    archive = make_zip(
        tmp_path / "mixed.zip", {"a.png": png_bytes(), "readme.txt": b"hello there"}
    )

    source = start_import(portal, archive, "mixed.zip")

    source.refresh_from_db()
    assert source.status == Source.Status.FAILED
    assert source.error.startswith("mixed.zip cannot be imported because readme.txt")
    assert "plain text" in source.error
    assert Slide.objects.count() == 0


def test_word_document_named_as_a_deck_is_refused(tmp_path, portal):
    archive = make_zip(
        tmp_path / "d.zip",
        {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"},
    )

    message = refusal_of(portal, archive, "deck.pptx")

    assert message.startswith("deck.pptx cannot be imported because it is a Word")


def test_damaged_deck_is_refused(tmp_path, portal):
    whole = make_deck(tmp_path / "d.pptx", [{"title": "One"}]).read_bytes()
    (tmp_path / "cut.pptx").write_bytes(whole[: len(whole) // 2])

    assert "ZIP structure is damaged" in refusal_of(portal, tmp_path / "cut.pptx")


def test_picture_named_as_a_deck_is_imported_as_what_it_is(tmp_path, portal):
    (tmp_path / "deck.pptx").write_bytes(png_bytes())

    source = start_import(portal, tmp_path / "deck.pptx", "deck.pptx")

    assert (source.kind, Slide.objects.get(source=source).kind) == ("png", "image")


def test_pdf_inside_a_media_zip_gives_its_pages(tmp_path, portal):
    pdf = make_image_pdf(tmp_path / "x.pdf", pages=2).read_bytes()
    archive = make_zip(tmp_path / "mix.zip", {"b.pdf": pdf, "a.png": png_bytes()})

    source = start_import(portal, archive, "mix.zip")

    assert [s.kind for s in source.slides.order_by("index_in_source")] == [
        "image",
        "page",
        "page",
    ]


def test_heic_picture_is_refused_with_what_to_do(tmp_path, portal):
    (tmp_path / "p.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(64))

    assert "export it as JPEG or PNG" in refusal_of(portal, tmp_path / "p.heic")


def test_empty_zip_is_refused(tmp_path, portal):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w"):
        pass
    (tmp_path / "empty.zip").write_bytes(buffer.getvalue())

    assert "the archive holds no files" in refusal_of(portal, tmp_path / "empty.zip")
