"""The member's viewer, the events it reports, and access-checked slide files."""

import json
import mimetypes
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from entatio.engagement.access import (
    presentation_for,
    slide_for,
    visible_presentations,
    visible_slides,
)
from entatio.engagement.events import MAX_ID, record_events
from entatio.engagement.visits import continue_visit
from entatio.library.editing import shown_slides
from entatio.library.models import PresentationSlide, Slide
from entatio.people.models import Member
from entatio.web.cards import card_html
from entatio.web.members import member_endpoint, member_page, page_context
from entatio.web.views.media import page_url

# The viewer reports on-screen time, time a video played (with the furthest
# point reached) and steps into an interactive slide; other verbs come from
# other faces.
VIEWER_VERBS = frozenset({"viewed", "watched", "interacted"})
VIEWER_FIELDS = (
    "id",
    "slide",
    "presentation",
    "verb",
    "at",
    "duration_ms",
    "visit",
    "furthest_ms",
)
MAX_BATCH = 500
SLIDE_FILE_CACHE = "private, max-age=3600"


class BadBatch(ValueError):
    """A batch of events the viewer could not have sent."""


@require_GET
@member_page
def viewer(request: HttpRequest, member: Member, presentation_id: int) -> HttpResponse:
    presentation = presentation_for(member, presentation_id)
    slides = shown_slides(presentation)
    visit = continue_visit(member, presentation)

    position = requested_position(request, len(slides))
    return render(
        request,
        "web/viewer.html",
        page_context(
            request,
            member,
            presentation=presentation,
            slides=slides,
            slide=slides[position - 1] if slides else None,
            position=position,
            slide_data=[slide_data(s, member) for s in slides],
            viewer_config={
                "presentation": presentation.pk,
                "visit": str(visit.pk),
                "position": position,
                "member": member.pk,
                "eventsUrl": reverse("record_events"),
                "idleSeconds": settings.ENTATIO["IDLE_SECONDS"],
            },
        ),
    )


def requested_position(request: HttpRequest, count: int) -> int:
    """The 1-based slide asked for with ?slide=, kept within the deck."""
    try:
        position = int(request.GET.get("slide", "1"))
    except ValueError:
        position = 1
    return min(max(position, 1), max(count, 1))


def slide_data(slide: Slide, member: Member) -> dict[str, Any]:
    return {
        "id": slide.pk,
        "kind": slide.kind,
        "title": slide.title,
        "description": slide.description,
        "text": slide.text if slide.kind == Slide.Kind.TEXT else "",
        "html": card_html(slide.text) if slide.kind == Slide.Kind.TEXT else "",
        "image": reverse("slide_image", args=[slide.pk]) if slide.image else "",
        "media": reverse("slide_media", args=[slide.pk]) if slide.media else "",
        "page": page_url(slide, member) if is_page(slide) else "",
        "width": slide.width,
        "height": slide.height,
    }


@require_POST
@member_endpoint
def viewer_events(request: HttpRequest, member: Member) -> HttpResponse:
    """Store a batch of the viewer's events; every slide must be visible."""
    try:
        batch = parse_batch(request)
    except BadBatch as error:
        return JsonResponse({"error": str(error)}, status=400)

    check_batch_access(member, batch)

    result = record_events(member.portal, batch, member=member)
    return JsonResponse(result.as_dict())


def parse_batch(request: HttpRequest) -> list[dict[str, Any]]:
    """The events of a JSON body, or of the form field a beacon sends."""
    if request.content_type == "application/json":
        raw = request.body
    else:
        raw = request.POST.get("events", "").encode()
    try:
        body = json.loads(raw or b"null")
    except (ValueError, RecursionError) as error:
        # RecursionError: arrays nested thousands deep, which no viewer sends.
        raise BadBatch("The body must be JSON of a list of events.") from error

    items = body.get("events") if isinstance(body, dict) else body
    if not isinstance(items, list) or not items:
        raise BadBatch("Send a list of events.")
    if len(items) > MAX_BATCH:
        raise BadBatch(f"Send at most {MAX_BATCH} events at a time.")
    return [viewer_event(item) for item in items]


def viewer_event(item: Any) -> dict[str, Any]:
    """Only the fields a viewer sends; the member is the signed-in one."""
    if not isinstance(item, dict):
        raise BadBatch("Every event must be a JSON object.")
    if item.get("verb") not in VIEWER_VERBS:
        raise BadBatch(
            "The viewer sends only 'viewed', 'watched' and 'interacted' events."
        )
    event = {key: item[key] for key in VIEWER_FIELDS if key in item}
    furthest = event.get("furthest_ms", 0)
    if not isinstance(furthest, int) or isinstance(furthest, bool) or furthest < 0:
        raise BadBatch("'furthest_ms' must be a whole number of milliseconds.")
    for key in ("slide", "presentation"):
        value = event.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadBatch(f"Every event must name its {key} by id.")
        if not 0 < value <= MAX_ID:
            raise BadBatch(f"No {key} has the id {value}.")
    return event


def check_batch_access(member: Member, batch: list[dict[str, Any]]) -> None:
    """404 for the whole batch unless every slide is visible where it was shown."""
    slide_ids = {e["slide"] for e in batch}
    presentation_ids = {e["presentation"] for e in batch}

    slides = visible_slides(member).filter(pk__in=slide_ids)
    presentations = visible_presentations(member).filter(pk__in=presentation_ids)
    places = PresentationSlide.objects.filter(
        presentation__in=presentations, slide__in=slides
    )
    if not member.can_author:
        places = places.filter(hidden=False)
    shown = set(places.values_list("presentation_id", "slide_id"))

    if any((e["presentation"], e["slide"]) not in shown for e in batch):
        raise Http404("No such slide")


@require_GET
@xframe_options_sameorigin
@member_page
def slide_file(
    request: HttpRequest, member: Member, slide_id: int, part: str
) -> FileResponse:
    """A slide's image, thumbnail or media, to members who may see the slide.

    HTML slides are shown in a frame of the viewer, so this site may frame
    them; other sites may not.
    """
    slide = slide_for(member, slide_id)

    name = stored_name(slide, part)
    try:
        stream = default_storage.open(name)
    except OSError as error:
        raise Http404("The file of this slide is missing") from error

    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(stream, content_type=content_type)
    response["Cache-Control"] = SLIDE_FILE_CACHE
    # An uploaded HTML slide may run its scripts, but never as a page of
    # this site: the sandbox gives it an origin of its own.
    response["Content-Security-Policy"] = "sandbox allow-scripts"
    return response


def is_page(slide: Slide) -> bool:
    return slide.kind == Slide.Kind.HTML and bool(slide.media)


def stored_name(slide: Slide, part: str) -> str:
    files = {
        "image": slide.image,
        "thumbnail": slide.thumbnail or slide.image,
        "media": slide.media,
    }
    name = files[part].name if part in files else ""
    if not name:
        raise Http404("This slide has no such file")
    return name
