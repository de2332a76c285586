"""Imports of small files the tests make: decks, images, PDFs, bad files."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from entatio.ingest import imports
from entatio.ingest.imports import ImportRefused, ingest_source, start_import
from entatio.ingest.tasks import ingest_source_task
from entatio.library.editing import shown_slides
from entatio.library.models import Presentation, Slide, Source
from tests.test_ingest_inputs import make_deck, make_image_pdf


def media_files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT)
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def queued_only(monkeypatch):
    """Uploads wait in the queue instead of running at once."""
    monkeypatch.setattr(imports, "enqueue_ingest", lambda source_id: None)


@pytest.fixture
def deck(tmp_path) -> Path:
    return make_deck(
        tmp_path / "quarterly.pptx",
        [
            {"title": "Welcome", "body": "Agenda for today", "notes": "Greet them"},
            {"title": "", "body": "Revenue grew\nCosts fell"},
            {"title": "Backup numbers", "body": "Only if asked", "hidden": True},
        ],
    )


@pytest.mark.soffice
def test_deck_slides_get_titles_notes_and_hidden_flags(deck, portal, author):
    source = start_import(portal, deck, "quarterly.pptx", uploaded_by=author)

    source.refresh_from_db()
    assert source.status == Source.Status.READY, source.error
    assert source.kind == "pptx"
    slides = list(source.slides.order_by("index_in_source"))
    assert [s.title for s in slides] == ["Welcome", "Revenue grew", "Backup numbers"]
    assert [s.hidden for s in slides] == [False, False, True]
    assert slides[0].notes == "Greet them"
    # Notes are the presenter's: the description the audience reads stays empty.
    assert slides[0].description == ""
    assert "Agenda for today" in slides[0].text
    assert all(s.width == 1600 and s.height == 1200 for s in slides)

    presentation = Presentation.objects.get(source=source)
    assert presentation.title == "quarterly"
    assert presentation.created_by == author
    assert shown_slides(presentation) == slides[:2]


def test_image_is_turned_upright_by_its_exif_orientation(tmp_path, portal):
    # Stored 200 wide and 100 high, red on the left; orientation 6 says
    # "turn 90 degrees clockwise to show", so red must end up on top.
    stored = Image.new("RGB", (200, 100), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 100, 100))
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(tmp_path / "photo.jpg", exif=exif.tobytes(), quality=95)

    source = start_import(portal, tmp_path / "photo.jpg", "photo.jpg")

    slide = Slide.objects.get(source=source)
    assert (slide.kind, slide.width, slide.height) == ("image", 100, 200)
    with slide.image.open("rb") as file, Image.open(file) as shown:
        top, bottom = shown.getpixel((50, 20)), shown.getpixel((50, 180))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


def test_transparent_image_is_laid_on_white(tmp_path, portal):
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    image.paste((0, 128, 0, 255), (0, 0, 20, 40))
    image.save(tmp_path / "logo.png")

    source = start_import(portal, tmp_path / "logo.png", "logo.png")

    slide = Slide.objects.get(source=source)
    with slide.image.open("rb") as file, Image.open(file) as shown:
        assert shown.getpixel((30, 20)) == pytest.approx((255, 255, 255), abs=3)
        assert shown.getpixel((10, 20))[1] == pytest.approx(128, abs=6)


def test_animated_gif_gives_its_first_frame(tmp_path, portal):
    frames = [Image.new("P", (30, 30), colour) for colour in (1, 2)]
    palette = [255, 255, 255, 255, 0, 0, 0, 0, 255] + [0] * 759
    for frame in frames:
        frame.putpalette(palette)
    frames[0].save(tmp_path / "blink.gif", save_all=True, append_images=frames[1:])

    source = start_import(portal, tmp_path / "blink.gif", "blink.gif")

    slide = Slide.objects.get(source=source)
    with slide.image.open("rb") as file, Image.open(file) as shown:
        assert shown.getpixel((15, 15)) == pytest.approx((255, 0, 0), abs=8)


def test_uploaded_file_object_is_accepted_and_stored_by_content(portal):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), "orange").save(buffer, "PNG")
    upload = SimpleUploadedFile("C:\\fakepath\\slides.pptx", buffer.getvalue())

    source = start_import(portal, upload, upload.name, title="Orange")

    source.refresh_from_db()
    assert source.original_name == "slides.pptx"
    assert source.kind == "png"
    assert source.file.name.endswith(".png")
    assert source.size_bytes == len(buffer.getvalue())
    assert len(source.content_hash) == 64
    assert Presentation.objects.get(source=source).title == "Orange"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.pdf", b"", "it is empty"),
        ("notes.pptx", b"Just some words\nin a text file.\n", "plain text"),
        ("random.key", bytes(range(256)) * 8, "type Entatio does not import"),
    ],
)
def test_unusable_file_is_refused_at_upload(tmp_path, portal, name, content, reason):
    (tmp_path / name).write_bytes(content)
    files_before = media_files()

    with pytest.raises(ImportRefused) as refusal:
        start_import(portal, tmp_path / name, name)

    message = str(refusal.value)
    assert message.startswith(f"{name} cannot be imported because")
    assert reason in message
    assert message.endswith(".")
    assert not refusal.value.needs_password
    assert Source.objects.count() == 0
    assert media_files() == files_before


def test_truncated_pdf_is_refused(tmp_path, portal):
    whole = make_image_pdf(tmp_path / "whole.pdf").read_bytes()
    (tmp_path / "cut.pdf").write_bytes(whole[: len(whole) * 2 // 3])

    with pytest.raises(ImportRefused, match=r"cut\.pdf cannot be imported because"):
        start_import(portal, tmp_path / "cut.pdf", "cut.pdf")
    assert Source.objects.count() == 0


def test_file_over_the_size_limit_is_refused(tmp_path, portal, settings):
    settings.ENTATIO = {**settings.ENTATIO, "MAX_UPLOAD_BYTES": 1000}
    make_image_pdf(tmp_path / "big.pdf")

    with pytest.raises(ImportRefused, match="larger than the limit of 0 MB"):
        start_import(portal, tmp_path / "big.pdf", "big.pdf")


def test_progress_is_told_after_every_slide(tmp_path, portal, queued_only):
    source = start_import(portal, make_image_pdf(tmp_path / "three.pdf"), "three.pdf")
    assert source.status == Source.Status.PENDING
    told = []

    def on_progress(done: int, total: int) -> None:
        row = Source.objects.get(pk=source.pk)
        told.append((done, total, row.progress_done, row.progress_total))

    presentation = ingest_source(source, on_progress)

    assert told == [(1, 3, 1, 3), (2, 3, 2, 3), (3, 3, 3, 3)]
    assert presentation.places.count() == 3
    source.refresh_from_db()
    assert source.status == Source.Status.READY
    assert source.finished_at is not None
    # The queued task, run later, finds the work done and leaves it alone.
    assert ingest_source_task.call(source.pk) == {
        "source_id": source.pk,
        "skipped": True,
    }
    assert ingest_source(source) == presentation


def test_failure_midway_leaves_no_slides_or_files(tmp_path, portal, monkeypatch):
    real_store_slide = imports.store_slide

    def store_two_then_break(source, index, draft):
        if index == 2:
            raise OSError("disk full")
        return real_store_slide(source, index, draft)

    monkeypatch.setattr(imports, "store_slide", store_two_then_break)
    files_before = media_files()

    source = start_import(portal, make_image_pdf(tmp_path / "deck.pdf"), "deck.pdf")

    # The task caught the refusal: the worker lives on, the source says why.
    source.refresh_from_db()
    assert source.status == Source.Status.FAILED
    assert source.error.startswith("deck.pdf could not be imported because of an")
    assert "OSError" in source.error
    assert Slide.objects.count() == Presentation.objects.count() == 0
    assert media_files() - files_before == {Path(source.file.path)}


def test_failure_is_logged_for_the_operator(tmp_path, portal, queued_only, caplog):
    source = start_import(portal, make_image_pdf(tmp_path / "deck.pdf"), "deck.pdf")
    Path(source.file.path).write_bytes(b"%PDF-1.7\n garbage")

    with pytest.raises(ImportRefused, match=r"deck\.pdf cannot be imported because"):
        ingest_source(source)

    record = next(r for r in caplog.records if r.levelname == "WARNING")
    assert record.source_id == source.pk
    assert "not a readable PDF" in record.getMessage()
    assert Source.objects.get(pk=source.pk).status == Source.Status.FAILED


@pytest.mark.soffice
def test_protected_pdf_needs_its_password_and_is_stored_without(tmp_path, portal):
    # LibreOffice writes a PDF that asks for a password to open.
    pptx = make_deck(tmp_path / "secret.pptx", [{"title": "Secret plan"}])
    protected = protect_with_password(pptx, "s3cret", tmp_path)

    with pytest.raises(ImportRefused) as missing:
        start_import(portal, protected, "secret.pdf")
    assert missing.value.needs_password
    assert "protected by a password" in str(missing.value)

    with pytest.raises(ImportRefused) as wrong:
        start_import(portal, protected, "secret.pdf", password="guess")
    assert wrong.value.needs_password
    assert "not the right one" in str(wrong.value)

    source = start_import(portal, protected, "secret.pdf", password="s3cret")
    source.refresh_from_db()
    assert source.status == Source.Status.READY
    assert "Secret plan" in source.slides.get().text
    assert b"/Encrypt" not in Path(source.file.path).read_bytes()


def protect_with_password(deck: Path, password: str, folder: Path) -> Path:
    import subprocess

    options = (
        '{"EncryptFile":{"type":"boolean","value":"true"},'
        f'"DocumentOpenPassword":{{"type":"string","value":"{password}"}}}}'
    )
    subprocess.run(
        [
            settings.ENTATIO["SOFFICE"],
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            f"pdf:impress_pdf_Export:{options}",
            "--outdir",
            str(folder / "out"),
            str(deck),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return folder / "out" / f"{deck.stem}.pdf"
