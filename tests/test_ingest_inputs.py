"""Small inputs for the ingest tests, made by the tests themselves (no tests here)."""

import io
import zipfile
from pathlib import Path

import av
import pypdfium2 as pdfium
from PIL import Image
from pptx import Presentation as PptxPresentation


def make_deck(path: Path, slides: list[dict]) -> Path:
    """A PPTX whose slides have a title, body text, notes and may be hidden."""
    deck = PptxPresentation()
    layout = deck.slide_layouts[1]
    for spec in slides:
        slide = deck.slides.add_slide(layout)
        slide.shapes.title.text = spec.get("title", "")
        slide.placeholders[1].text = spec.get("body", "")
        if spec.get("notes"):
            slide.notes_slide.notes_text_frame.text = spec["notes"]
        if spec.get("hidden"):
            slide.element.set("show", "0")
    deck.save(path)
    return path


def make_pdf(path: Path, pages: int, size: tuple[float, float] = (200, 100)) -> Path:
    """A PDF of blank pages, each with a filled box so it draws something."""
    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(*size)
    document.save(path)
    document.close()
    return path


def make_image_pdf(path: Path, pages: int = 3) -> Path:
    """A PDF of pages that each show a picture (Pillow writes it)."""
    images = [striped_image((400, 300), (200 + i * 20, 30, 60)) for i in range(pages)]
    images[0].save(path, "PDF", save_all=True, append_images=images[1:])
    return path


def striped_image(size: tuple[int, int], colour: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGB", size, "white")
    image.paste(colour, (0, 0, size[0] // 2, size[1]))
    return image


def png_bytes(size: tuple[int, int] = (64, 48), colour=(200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    striped_image(size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def make_zip(path: Path, members: dict[str, bytes], **links: str) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in links.items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (0o120777) << 16
            archive.writestr(info, target)
    return path


def make_video(path: Path, seconds: float, size=(64, 48), rate: int = 10) -> Path:
    """An MP4 of moving colour, ``seconds`` long."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(int(seconds * rate)):
            image = Image.new("RGB", size, (index * 7 % 256, 120, 200))
            frame = av.VideoFrame.from_image(image)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
