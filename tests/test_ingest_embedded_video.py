"""A video carried inside a deck plays as its slide; a bad one leaves a picture."""

import zipfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from pptx import Presentation as PptxPresentation
from pptx.util import Inches

from entatio.ingest.imports import start_import
from entatio.library.models import Slide, Source
from tests.shared import corpus_dir

pytestmark = pytest.mark.soffice


def make_video(path: Path, seconds: int = 2, fps: int = 10) -> Path:
    """An MPEG-4 video of a square moving across, made frame by frame."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = 160, 120
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        for index in range(seconds * fps):
            pixels = np.zeros((120, 160, 3), dtype=np.uint8)
            pixels[40:80, index * 4 : index * 4 + 40] = (240, 200, 40)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def make_deck_with_video(path: Path, video: Path) -> Path:
    deck = PptxPresentation()
    intro = deck.slides.add_slide(deck.slide_layouts[5])
    intro.shapes.title.text = "Before the demo"
    demo = deck.slides.add_slide(deck.slide_layouts[5])
    demo.shapes.title.text = "The demo"
    demo.shapes.add_movie(
        str(video), Inches(1), Inches(2), Inches(4), Inches(3), mime_type="video/mp4"
    )
    deck.save(path)
    return path


def embedded_part(deck: Path) -> str:
    with zipfile.ZipFile(deck) as package:
        return next(n for n in package.namelist() if n.startswith("ppt/media/media"))


def test_the_slide_with_a_video_plays_it(tmp_path, portal, author):
    video = make_video(tmp_path / "clip.mp4")
    deck = make_deck_with_video(tmp_path / "demo.pptx", video)

    source = start_import(portal, deck, "demo.pptx", uploaded_by=author)

    source.refresh_from_db()
    assert source.status == Source.Status.READY, source.error
    intro, demo = source.slides.order_by("index_in_source")
    assert intro.kind == Slide.Kind.PAGE and not intro.media
    assert demo.kind == Slide.Kind.VIDEO
    assert demo.title == "The demo"
    assert demo.duration_seconds == pytest.approx(2.0, abs=0.15)
    assert demo.media.name.endswith(".mp4")
    assert demo.media.read() == video.read_bytes()
    assert demo.image and demo.width > demo.height


def test_a_broken_embedded_video_leaves_the_slide_a_picture(tmp_path, portal, author):
    video = make_video(tmp_path / "clip.mp4")
    deck = make_deck_with_video(tmp_path / "demo.pptx", video)
    broken = tmp_path / "broken.pptx"
    part = embedded_part(deck)
    with zipfile.ZipFile(deck) as old, zipfile.ZipFile(broken, "w") as new:
        for item in old.infolist():
            data = old.read(item)
            new.writestr(
                item, b"\x00\x00\x00\x18ftypmp42" if item.filename == part else data
            )

    source = start_import(portal, broken, "broken.pptx", uploaded_by=author)

    source.refresh_from_db()
    assert source.status == Source.Status.READY, source.error
    demo = source.slides.get(index_in_source=1)
    assert demo.kind == Slide.Kind.PAGE
    assert not demo.media


def test_the_corpus_deck_plays_its_own_video(portal, author):
    path = corpus_dir() / "pptx-embedded-video.pptx"

    source = start_import(portal, path, path.name, uploaded_by=author)

    source.refresh_from_db()
    slide = source.slides.get()
    assert slide.kind == Slide.Kind.VIDEO
    assert slide.duration_seconds > 0
    with zipfile.ZipFile(path) as package:
        assert slide.media.read() == package.read("ppt/media/media1.mp4")
