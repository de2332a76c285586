"""Ingest speed against the bare tools, measured in one run on the same files.

Prints pages per second of the PDF import (render, thumbnail, text, store)
against ``pdftoppm`` drawing the same pages at the same width, and seconds
per PPTX deck of the import against a bare ``soffice --headless --convert-to
pdf`` of the same deck: the first deck after the worker starts, and later
decks. Ratios are ours / bare for time, bare / ours for pages per second:
above 1 is faster, below 1 is slower.

    .venv/bin/python bench/ingest.py [--decks 4] [--slides 20]
"""

import argparse
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _setup

PDF_FILES = [
    "pdf-tracemonkey-14p.pdf",
    "pdf-beamer-metropolis-25p.pdf",
    "pdf-elsie-slides-37p.pdf",
    "pdf-encrypted-empty-userpw-41p.pdf",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decks", type=int, default=4)
    parser.add_argument("--slides", type=int, default=20)
    args = parser.parse_args()

    _setup.start("sqlite")
    from entatio.people.models import Organization, Portal

    organization = Organization.objects.create(name="Bench", slug="bench")
    portal = Portal.objects.create(organization=organization, name="B", slug="b")
    folder = Path(tempfile.mkdtemp(prefix="entatio-bench-ingest-"))

    bench_pdf(portal, folder)
    bench_pptx(portal, folder, args.decks, args.slides)
    return 0


def bench_pdf(portal, folder: Path) -> None:
    from django.conf import settings

    from entatio.ingest.imports import start_import
    from tests.shared import corpus_dir

    files = [corpus_dir() / name for name in PDF_FILES]
    width = settings.ENTATIO["SLIDE_WIDTH"]
    pages = ours = bare = 0.0
    print(f"PDF: {len(files)} files, pages drawn {width} px wide")
    for path in files:
        started = time.perf_counter()
        source = start_import(portal, path, path.name)
        ours_seconds = time.perf_counter() - started
        count = source.slides.count()

        started = time.perf_counter()
        run(
            [
                "pdftoppm",
                "-jpeg",
                "-scale-to-x",
                str(width),
                "-scale-to-y",
                "-1",
                str(path),
                str(folder / path.stem),
            ]
        )
        bare_seconds = time.perf_counter() - started

        print(
            f"  {path.name:40} {count:3} pages  ours {count / ours_seconds:6.1f}"
            f" pages/s  pdftoppm {count / bare_seconds:6.1f} pages/s"
        )
        pages, ours, bare = pages + count, ours + ours_seconds, bare + bare_seconds

    print(
        f"  all: ours {pages / ours:.1f} pages/s, pdftoppm {pages / bare:.1f} "
        f"pages/s, ratio {bare / ours:.2f} (goal >= 1)"
    )


def bench_pptx(portal, folder: Path, decks: int, slides: int) -> None:
    from entatio.ingest import office_pool
    from entatio.ingest.imports import start_import

    paths = [make_deck(folder / f"deck-{n}.pptx", n, slides) for n in range(decks)]
    bare_profile = folder / "bare-profile"
    soffice_once(paths[0], bare_profile, folder / "warm-up")

    # A worker that starts again finds its office profile made: so make it,
    # then stop the office, as a restart would.
    pool = office_pool.shared_pool()
    warm_mode = "warm pool" if pool is not None else "one office per deck"
    pool_start = make_deck(folder / "profile.pptx", 99, 1)
    start_import(portal, pool_start, pool_start.name)
    if pool is not None:
        pool.wait_until_warm(timeout=120)
        pool.stop_all()

    print(f"PPTX: {decks} decks of {slides} slides with pictures ({warm_mode})")
    bare = [soffice_once(p, bare_profile, folder / f"bare-{p.stem}") for p in paths]
    ours = []
    for path in paths:
        started = time.perf_counter()
        source = start_import(portal, path, path.name)
        ours.append(time.perf_counter() - started)
        assert source.slides.count() == slides, source.error

    started = time.perf_counter()
    start_import(portal, paths[0], "again.pptx")
    again = time.perf_counter() - started

    bare_mean = sum(bare) / len(bare)
    later = sum(ours[1:]) / max(1, len(ours) - 1)
    each = ", ".join(f"{seconds:.2f}" for seconds in bare)
    print(f"  bare soffice per deck  {bare_mean:.2f} s ({each})")
    print(
        f"  first deck             {ours[0]:.2f} s  ratio {ours[0] / bare_mean:.2f} "
        "(goal <= 1.3)"
    )
    print(
        f"  later decks            {later:.2f} s  ratio {later / bare_mean:.2f} "
        "(goal < 0.5)"
    )
    print(
        f"  same deck again        {again:.2f} s  ratio {again / bare_mean:.2f} "
        "(its PDF is kept)"
    )


def soffice_once(deck: Path, profile: Path, out: Path) -> float:
    started = time.perf_counter()
    run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(deck),
        ]
    )
    return time.perf_counter() - started


def make_deck(path: Path, seed: int, slides: int) -> Path:
    """A deck of title, bullets and a photo-like picture on every slide."""
    from PIL import Image
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    for number in range(slides):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = f"Deck {seed}, slide {number + 1}"
        slide.placeholders[1].text = "Growth in every region\nCosts down\nNext steps"
        picture = Image.effect_noise((800, 600), 40 + seed).convert("RGB")
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=85)
        buffer.seek(0)
        slide.shapes.add_picture(buffer, Inches(5), Inches(3), width=Inches(4))
    deck.save(path)
    return path


def run(command: list[str]) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=600)


if __name__ == "__main__":
    sys.exit(main())
