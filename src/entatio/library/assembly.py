"""Assembling presentations from pieces: insert, remove, replace, copy, cards.

A slide placed in a second presentation is the same slide: its title, its
files and the audience's records are shared. A copy is a new slide that
remembers the one it was copied from (lineage) and shares its stored files,
so it can be changed without changing the original.

Records follow every change through the signals of the engagement app: a
place created gives the audience records, a place removed archives them.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from entatio.library.editing import EditError, ordered_places
from entatio.library.models import Presentation, PresentationSlide, Slide, Source

# Far more than any real chain of copies; stops a loop made by hand.
MAX_LINEAGE = 50
MAX_CARD_CHARS = 20_000


def insert_slides(
    presentation: Presentation, slides: Sequence[Slide], at: int | None = None
) -> list[PresentationSlide]:
    """Place these slides at position ``at`` (0-based; None or past the end
    appends), in the given order; the slides after them move down."""
    check_insertable(presentation, slides)

    with transaction.atomic():
        places = ordered_places(presentation)
        at = len(places) if at is None else min(max(at, 0), len(places))
        created = [
            PresentationSlide(presentation=presentation, slide=s, hidden=s.hidden)
            for s in slides
        ]
        # Positions of the existing places first, so the new ones fit in.
        renumber([*places[:at], *created, *places[at:]], save_new=True)
    return created


def check_insertable(presentation: Presentation, slides: Sequence[Slide]) -> None:
    if not slides:
        raise EditError("Pick at least one slide to insert.")
    if any(s.portal_id != presentation.portal_id for s in slides):
        raise EditError("A slide can only be placed in a presentation of its portal.")
    if len({s.pk for s in slides}) != len(slides):
        raise EditError("Each slide can be inserted only once.")

    present = presentation.places.filter(slide__in=slides).values_list(
        "slide_id", flat=True
    )
    if present:
        raise EditError(
            f"Slide {present[0]} is already in this presentation; "
            "copy it to have it twice."
        )


def renumber(places: list[PresentationSlide], save_new: bool = False) -> None:
    """Positions 0, 1, 2, ... in list order; only changed rows are written.

    Moves are written with one bulk update, which sends no signals: a move
    changes nobody's access. New places are saved one by one, so their
    signal gives the audience records.
    """
    moved = []
    for position, place in enumerate(places):
        if place.pk is None:
            place.position = position
        elif place.position != position:
            place.position = position
            moved.append(place)

    PresentationSlide.objects.bulk_update(moved, ["position"])
    if save_new:
        for place in places:
            if place.pk is None:
                place.save()


def remove_slide(presentation: Presentation, slide_id: int) -> Slide:
    """Take the slide out of the presentation; the slide stays in the library.

    The audience's records of it are archived unless another presentation
    still shows it to them; nothing is deleted.
    """
    with transaction.atomic():
        places = ordered_places(presentation)
        place = place_of(places, slide_id)
        place.delete()
        renumber([p for p in places if p is not place])
    return place.slide


def replace_slide(
    presentation: Presentation, slide_id: int, replacement: Slide
) -> PresentationSlide:
    """Put ``replacement`` where the slide was, hidden or shown as it was."""
    check_insertable(presentation, [replacement])

    with transaction.atomic():
        places = ordered_places(presentation)
        old = place_of(places, slide_id)
        new = PresentationSlide(
            presentation=presentation,
            slide=replacement,
            position=old.position,
            hidden=old.hidden,
        )
        old.delete()
        new.save()
    return new


def place_of(places: list[PresentationSlide], slide_id: int) -> PresentationSlide:
    for place in places:
        if place.slide_id == slide_id:
            return place
    raise EditError(f"Slide {slide_id} is not in this presentation.")


def copy_slide(
    slide: Slide, into: Presentation, at: int | None = None
) -> PresentationSlide:
    """A new slide like ``slide``, placed in ``into``, remembering its origin.

    The copy shares the stored files: they are never changed in place, and
    a slide's files are only deleted with the upload that made them.
    """
    if slide.portal.organization_id != into.portal.organization_id:
        raise EditError("A slide can only be copied within its organization.")

    with transaction.atomic():
        copy = Slide.objects.create(
            portal_id=into.portal_id,
            kind=slide.kind,
            title=slide.title,
            description=slide.description,
            text=slide.text,
            notes=slide.notes,
            image=slide.image.name,
            thumbnail=slide.thumbnail.name,
            media=slide.media.name,
            width=slide.width,
            height=slide.height,
            duration_seconds=slide.duration_seconds,
            copied_from=slide,
        )
        (place,) = insert_slides(into, [copy], at)
    return place


def lineage(slide: Slide) -> list[Slide]:
    """The slide and the slides it was copied from, nearest first."""
    chain = [slide]
    seen = {slide.pk}
    while chain[-1].copied_from_id and len(chain) < MAX_LINEAGE:
        parent = Slide.objects.select_related("source").get(pk=chain[-1].copied_from_id)
        if parent.pk in seen:
            break
        chain.append(parent)
        seen.add(parent.pk)
    return chain


@dataclass(frozen=True)
class Origin:
    """Where a slide of a presentation came from."""

    place: PresentationSlide
    original: Slide
    source: Source | None
    copies_between: int
    also_in: list[Presentation]


def slide_origins(presentation: Presentation) -> list[Origin]:
    """For each place: the first slide of its lineage, that slide's upload,
    and the other presentations of the same portal that show the original.

    A fixed number of queries, plus one per step of a copy's lineage.
    """
    places = ordered_places(presentation)
    originals = {place.pk: lineage(place.slide) for place in places}
    sources = Source.objects.in_bulk(
        {chain[-1].source_id for chain in originals.values() if chain[-1].source_id}
    )
    also_in = presentations_showing(
        {chain[-1].pk for chain in originals.values()}, presentation
    )
    return [
        Origin(
            place,
            chain[-1],
            sources.get(chain[-1].source_id or 0),
            len(chain) - 1,
            also_in.get(chain[-1].pk, []),
        )
        for place, chain in ((p, originals[p.pk]) for p in places)
    ]


def presentations_showing(
    slide_ids: set[int], besides: Presentation
) -> dict[int, list[Presentation]]:
    """Per slide, the other presentations of the portal it is placed in."""
    places = (
        PresentationSlide.objects.filter(
            slide_id__in=slide_ids, presentation__portal_id=besides.portal_id
        )
        .exclude(presentation=besides)
        .select_related("presentation")
        .order_by("presentation__title", "presentation_id")
    )
    showing: dict[int, list[Presentation]] = {}
    for place in places:
        showing.setdefault(place.slide_id, []).append(place.presentation)
    return showing


def create_text_card(
    presentation: Presentation, title: str, text: str, at: int | None = None
) -> PresentationSlide:
    """A card written in the editor, in Markdown, placed in the presentation."""
    title, text = card_fields(title, text)
    with transaction.atomic():
        card = Slide.objects.create(
            portal_id=presentation.portal_id,
            kind=Slide.Kind.TEXT,
            title=title,
            text=text,
        )
        (place,) = insert_slides(presentation, [card], at)
    return place


def update_text_card(card: Slide, title: str, text: str) -> Slide:
    if card.kind != Slide.Kind.TEXT:
        raise EditError("Only a text card's text can be written here.")
    card.title, card.text = card_fields(title, text)
    card.save(update_fields=["title", "text"])
    return card


def card_fields(title: str, text: str) -> tuple[str, str]:
    title = " ".join(title.split())[:300]
    text = text.replace("\r\n", "\n").strip()
    if not text and not title:
        raise EditError("A text card needs a title or some text.")
    if len(text) > MAX_CARD_CHARS:
        raise EditError(f"A text card holds at most {MAX_CARD_CHARS:,} characters.")
    return title, text
