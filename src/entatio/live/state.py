"""The state of a session as its pages show it, read from the database.

Attendees get the slide on screen and nothing else; the presenter also gets
speaker notes, the next slide and who is present. Both are sent whole each
time, so a page that missed a message is right again at the next.
"""

from typing import Any

from django.urls import reverse

from entatio.library.editing import shown_slides
from entatio.library.models import Slide
from entatio.live.models import LiveSession, SlideDisplay
from entatio.people.models import Member


def current_display(session: LiveSession) -> SlideDisplay | None:
    return (
        session.displays.filter(ended_at=None)
        .select_related("slide")
        .order_by("-shown_at", "-pk")
        .first()
    )


def present_now(session: LiveSession) -> dict[Member, set[str]]:
    """The attendees present now, with how each is there (online, on site)."""
    present: dict[Member, set[str]] = {}
    open_presences = session.presences.filter(ended_at=None).select_related("member")
    for presence in open_presences.order_by("member__email"):
        present.setdefault(presence.member, set()).add(presence.way)
    return present


def shown_slide_count(session: LiveSession) -> int:
    return len(shown_slides(session.presentation))


def next_slide(session: LiveSession, position: int) -> Slide | None:
    slides = shown_slides(session.presentation)
    return slides[position] if position < len(slides) else None


def slide_payload(slide: Slide | None) -> dict[str, Any] | None:
    """A slide as the live pages draw it; its image only through the
    access-checked image view."""
    if slide is None:
        return None
    return {
        "id": slide.pk,
        "title": slide.title,
        "kind": slide.kind,
        "image": reverse("slide_image", args=[slide.pk]) if slide.image else "",
        "text": "" if slide.image else (slide.text or slide.title),
    }


def audience_state(session: LiveSession) -> dict[str, Any]:
    shown = current_display(session) if session.is_on else None
    return {
        "kind": "ended" if not session.is_on else "slide",
        "position": shown.position if shown else 0,
        "count": shown_slide_count(session),
        "slide": slide_payload(shown.slide if shown else None),
    }


def presenter_state(session: LiveSession) -> dict[str, Any]:
    state = audience_state(session)
    shown = current_display(session) if session.is_on else None
    present = present_now(session)
    state.update(
        notes=shown.slide.notes if shown else "",
        next=slide_payload(next_slide(session, shown.position) if shown else None),
        present=[
            {"id": m.pk, "name": m.display_name, "ways": sorted(ways)}
            for m, ways in present.items()
        ],
        present_count=len(present),
    )
    return state
