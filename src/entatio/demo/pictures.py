"""Pictures for the simulated slides, drawn with Pillow.

The simulator writes slides as words only; the viewer shows a slide best as
a picture, as an imported deck's pages are. Each original slide is drawn
once (title, description, the words of its text as bullets, and a band in
its deck's colour) and encoded as the importer encodes pages; its copies in
the other portals share the stored files, as copies made in the library do.
"""

import textwrap
from collections.abc import Iterable

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw, ImageFont

from entatio.ingest.images import encode_picture
from entatio.library.models import Slide
from entatio.people.models import Organization

SIZE = (1280, 720)
MARGIN = 80
BAND_HEIGHT = 56
BULLETS = 4
WORDS_PER_BULLET = 6
# One colour per deck, picked by the first word of its slides' titles.
COLOURS = (
    (31, 111, 235),
    (130, 80, 223),
    (26, 127, 55),
    (207, 34, 46),
    (191, 135, 0),
    (9, 105, 218),
    (130, 7, 105),
)
INK = (36, 41, 47)
MUTED = (87, 96, 106)
WHITE = (255, 255, 255)


def draw_slide_pictures(organization: Organization) -> int:
    """Give every slide of the organization without a picture one; the count."""
    slides = list(
        Slide.objects.filter(portal__organization=organization, image="").order_by("pk")
    )
    by_pk = {slide.pk: slide for slide in slides}
    colours: dict[str, tuple[int, int, int]] = {}
    drawn = 0
    for slide in slides:
        original = _original_of(slide, by_pk)
        if original is not slide and original.image:
            _share_files(slide, original)
        else:
            _draw_and_save(slide, _colour_of(slide, colours))
            drawn += 1
        slide.kind = Slide.Kind.PAGE
        slide.save(update_fields=["kind", "image", "thumbnail", "width", "height"])
    return drawn


def _original_of(slide: Slide, by_pk: dict[int, Slide]) -> Slide:
    """The first slide of the slide's lineage among those being drawn."""
    current = slide
    while current.copied_from_id in by_pk:
        current = by_pk[current.copied_from_id]
    return current


def _share_files(slide: Slide, original: Slide) -> None:
    slide.image = original.image.name
    slide.thumbnail = original.thumbnail.name
    slide.width, slide.height = original.width, original.height


def _colour_of(
    slide: Slide, colours: dict[str, tuple[int, int, int]]
) -> tuple[int, int, int]:
    deck = slide.title.split(" ", 1)[0].lower()
    if deck not in colours:
        colours[deck] = COLOURS[len(colours) % len(COLOURS)]
    return colours[deck]


def _draw_and_save(slide: Slide, colour: tuple[int, int, int]) -> None:
    picture = encode_picture(draw_slide(slide, colour))
    name = f"demo-{slide.pk}.{picture.extension}"
    slide.image.save(name, ContentFile(picture.image), save=False)
    slide.thumbnail.save(name, ContentFile(picture.thumbnail), save=False)
    slide.width, slide.height = picture.width, picture.height


def draw_slide(slide: Slide, colour: tuple[int, int, int]) -> Image.Image:
    """A plain slide: title, description, bullets and a band in the deck's colour."""
    image = Image.new("RGB", SIZE, WHITE)
    draw = ImageDraw.Draw(image)
    width, height = SIZE

    draw.rectangle((0, 0, width, 14), fill=colour)
    draw.rectangle((0, height - BAND_HEIGHT, width, height), fill=colour)
    draw.text((MARGIN, 70), slide.title, font=_font(54), fill=INK)
    draw.text((MARGIN, 150), slide.description, font=_font(32), fill=MUTED)

    top = 240
    for bullet in _bullets(slide.text.split()):
        draw.ellipse((MARGIN, top + 14, MARGIN + 14, top + 28), fill=colour)
        draw.text((MARGIN + 36, top), bullet, font=_font(34), fill=INK)
        top += 72
    return image


def _bullets(words: list[str]) -> Iterable[str]:
    """The slide's words in short lines, first letters upper case."""
    for number in range(BULLETS):
        chunk = words[number * WORDS_PER_BULLET : (number + 1) * WORDS_PER_BULLET]
        if not chunk:
            return
        line = " ".join(chunk)
        yield textwrap.shorten(line[:1].upper() + line[1:], width=60)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's own font: the same on every machine, no font files needed.
    return ImageFont.load_default(size=size)
