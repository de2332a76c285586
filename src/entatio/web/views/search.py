"""Searching the slides a member may see, across the portal's library."""

from collections import defaultdict
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from entatio.engagement.access import visible_presentations, visible_slides
from entatio.library.models import Presentation, PresentationSlide, Slide
from entatio.library.search import search_slides, search_words
from entatio.people.models import Member
from entatio.web.members import member_page, page_context

MAX_QUERY = 200


@dataclass(frozen=True)
class Hit:
    """A slide found, and the presentations it is in that the member sees."""

    slide: Slide
    presentations: list[Presentation]


def search_query(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:MAX_QUERY]


def find_slides(member: Member, query: str) -> list[Hit]:
    """The member's matches, best first, each with where it can be seen."""
    found = search_slides(query, visible_slides(member))
    places = PresentationSlide.objects.filter(
        slide__in=[f.slide.pk for f in found],
        presentation__in=visible_presentations(member),
    ).select_related("presentation")
    if not member.can_author:
        places = places.filter(hidden=False)

    shown_in: dict[int, list[Presentation]] = defaultdict(list)
    for place in places.order_by("presentation__title", "presentation_id"):
        shown_in[place.slide_id].append(place.presentation)
    return [Hit(f.slide, shown_in[f.slide.pk]) for f in found]


@require_GET
@member_page
def search(request: HttpRequest, member: Member) -> HttpResponse:
    query = search_query(request)
    hits = find_slides(member, query) if search_words(query) else []
    return render(
        request,
        "web/search.html",
        page_context(request, member, query=query, hits=hits),
    )
