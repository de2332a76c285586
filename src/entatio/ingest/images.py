"""Pictures: slide images and thumbnails encoded, and image files as slides."""

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps, ImageStat, UnidentifiedImageError

from entatio.ingest.config import ingest_setting
from entatio.ingest.drafts import Picture, SlideDraft
from entatio.ingest.problems import SAVE_AGAIN, UnreadableFile
from entatio.library.models import Slide

# JPEG encodes a 1600 px slide about ten times faster than PNG (and WebP),
# which would otherwise take more time than drawing the page; at this
# quality text stays crisp.
JPEG_QUALITY = 85


def encode_picture(image: Image.Image) -> Picture:
    """Slide image at most SLIDE_WIDTH wide, and its thumbnail, as JPEG."""
    image = on_white(image)
    image = scaled_to_width(image, ingest_setting("SLIDE_WIDTH"))
    thumbnail = scaled_to_width(image, ingest_setting("THUMB_WIDTH"))
    return Picture(
        image=jpeg_bytes(image),
        thumbnail=jpeg_bytes(thumbnail),
        width=image.width,
        height=image.height,
    )


def on_white(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid over white as a slide shows it."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB") if image.mode != "RGB" else image


def scaled_to_width(image: Image.Image, width: int) -> Image.Image:
    """Made smaller to ``width`` if wider; never enlarged."""
    # A pixel or two over (pdfium rounds up) is not worth a resample.
    if image.width <= width * 1.01:
        return image

    # Shrinking by a whole factor first (a box filter) is several times
    # faster than resampling the full image, and as smooth.
    factor = image.width // width
    if factor >= 2:
        image = image.reduce(factor)
    if image.width <= width * 1.01:
        return image
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.BICUBIC)


def jpeg_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def check_image(path: Path) -> None:
    """Refuse an image that cannot be shown, before anything is stored."""
    read_image(path).close()


def image_slide(path: Path, name: str) -> SlideDraft:
    """One image file as one slide: upright, first frame, on white."""
    with read_image(path) as image:
        picture = encode_picture(image)
    return SlideDraft(kind=Slide.Kind.IMAGE, picture=picture, title=stem_title(name))


def read_image(path: Path) -> Image.Image:
    """The image decoded and turned upright by its EXIF orientation."""
    try:
        image = Image.open(path)
        check_pixels(image)
        # JPEG can decode at 1/2, 1/4 or 1/8 size directly, which a large
        # photo needs: a slide is never wider than SLIDE_WIDTH.
        width = ingest_setting("SLIDE_WIDTH")
        image.draft("RGB", (width, width))
        image.seek(0)
        image.load()
        upright = ImageOps.exif_transpose(image)
    except UnreadableFile:
        raise
    except Image.DecompressionBombError as error:
        raise too_many_pixels() from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise UnreadableFile("the image is damaged or cut short", SAVE_AGAIN) from error
    if upright is not image:
        image.close()
    return upright


def check_pixels(image: Image.Image) -> None:
    if image.width * image.height > ingest_setting("MAX_IMAGE_PIXELS"):
        raise too_many_pixels(image.width, image.height)


def too_many_pixels(width: int = 0, height: int = 0) -> UnreadableFile:
    size = f" ({width} by {height})" if width else ""
    limit = ingest_setting("MAX_IMAGE_PIXELS") / 1e6
    return UnreadableFile(
        f"the image has more pixels{size} than the limit of {limit:,.0f} million",
        "make it smaller and upload it again",
    )


def stem_title(name: str) -> str:
    stem = Path(name).stem if "." in name else name
    return " ".join(stem.replace("_", " ").replace("-", " ").split())[:300]


def card_picture(title: str, label: str, body: str = "") -> Picture:
    """A plain card with a title and some text, for slides with no picture."""
    width = ingest_setting("SLIDE_WIDTH")
    card = Image.new("RGB", (width, width * 9 // 16), (246, 247, 249))
    draw = ImageDraw.Draw(card)

    draw.text((80, 70), label, fill=(90, 100, 115), font=ImageFont.load_default(36))
    top = 150
    for line in wrapped(title, 34)[:3]:
        draw.text((80, top), line, fill=(20, 24, 31), font=ImageFont.load_default(68))
        top += 90
    for line in wrapped(" / ".join(body.splitlines()), 60)[:6]:
        draw.text(
            (80, top + 20), line, fill=(45, 52, 64), font=ImageFont.load_default(40)
        )
        top += 56
    return encode_picture(card)


def wrapped(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word[:width])
    return lines


def is_blank(image: Image.Image) -> bool:
    """One flat colour, as a page drawn with nothing on it."""
    low, high = ImageStat.Stat(image.convert("L")).extrema[0]
    return high - low < 16
