"""Changes to slides and presentations; views and commands call these."""

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Max

from entatio.library.models import Presentation, PresentationSlide, Slide, Source
from entatio.people.models import Member


class EditError(ValueError):
    """A change that cannot be made, with what to fix."""


def presentation_from_source(
    source: Source, title: str = "", created_by: Member | None = None
) -> Presentation:
    """A presentation of all the source's slides, hidden ones marked hidden."""
    with transaction.atomic():
        presentation = Presentation.objects.create(
            portal_id=source.portal_id,
            title=title or default_title(source.original_name),
            created_by=created_by,
            source=source,
        )
        slides = source.slides.order_by("index_in_source")
        PresentationSlide.objects.bulk_create(
            PresentationSlide(
                presentation=presentation,
                slide=slide,
                position=position,
                hidden=slide.hidden,
            )
            for position, slide in enumerate(slides)
        )
    return presentation


def default_title(file_name: str) -> str:
    stem = file_name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return stem.replace("_", " ").replace("-", " ").strip() or "Untitled"


def ordered_places(presentation: Presentation) -> list[PresentationSlide]:
    return list(presentation.places.select_related("slide").order_by("position", "pk"))


def shown_slides(presentation: Presentation) -> list[Slide]:
    """The slides an audience pages through, in order."""
    return [p.slide for p in ordered_places(presentation) if not p.hidden]


def update_slide(
    slide: Slide, *, title: str | None = None, description: str | None = None
) -> Slide:
    fields = []
    if title is not None:
        slide.title = title.strip()[:300]
        fields.append("title")
    if description is not None:
        slide.description = description.strip()
        fields.append("description")
    if fields:
        slide.save(update_fields=fields)
    return slide


def reorder_slides(presentation: Presentation, slide_ids: Sequence[int]) -> None:
    """Put the slides in this order; every slide of the presentation, once."""
    places = {p.slide_id: p for p in presentation.places.all()}
    if sorted(slide_ids) != sorted(places):
        raise EditError(
            "The new order must list every slide of the presentation exactly once."
        )

    with transaction.atomic():
        for position, slide_id in enumerate(slide_ids):
            place = places[slide_id]
            if place.position != position:
                place.position = position
                place.save(update_fields=["position"])


def set_slide_hidden(presentation: Presentation, slide_id: int, hidden: bool) -> None:
    place = presentation.places.filter(slide_id=slide_id).first()
    if place is None:
        raise EditError(f"Slide {slide_id} is not in this presentation.")
    if place.hidden != hidden:
        place.hidden = hidden
        # save() rather than update(): the signal keeps records in step.
        place.save(update_fields=["hidden"])


def append_slide(presentation: Presentation, slide: Slide) -> PresentationSlide:
    if slide.portal_id != presentation.portal_id:
        raise EditError("A slide can only be placed in a presentation of its portal.")
    last = presentation.places.aggregate(last=Max("position"))["last"]
    return PresentationSlide.objects.create(
        presentation=presentation,
        slide=slide,
        position=0 if last is None else last + 1,
        hidden=slide.hidden,
    )


def rename_presentation(presentation: Presentation, title: str) -> Presentation:
    title = " ".join(title.split())[:300]
    if not title:
        raise EditError("A presentation needs a title.")
    if title != presentation.title:
        presentation.title = title
        presentation.save(update_fields=["title", "updated_at"])
    return presentation
