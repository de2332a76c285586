"""The library of presentations, and the portal switcher in every page's frame."""

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from entatio.engagement.access import visible_presentations
from entatio.library.models import Presentation, PresentationSlide, Source
from entatio.people.models import Member
from entatio.web.members import choose_portal, member_page, page_context

RECENT_IMPORTS = 20


@require_GET
@member_page
def library(request: HttpRequest, member: Member) -> HttpResponse:
    presentations = library_presentations(member)
    imports = unfinished_imports(member) if member.can_author else []
    return render(
        request,
        "web/library.html",
        page_context(
            request, member, presentations=presentations, unfinished_imports=imports
        ),
    )


def library_presentations(member: Member) -> QuerySet[Presentation]:
    """Visible presentations with their cover slide and shown-slide count."""
    first_shown = PresentationSlide.objects.filter(
        presentation=OuterRef("pk"), hidden=False
    ).order_by("position", "pk")
    return (
        visible_presentations(member)
        .select_related("source")
        .annotate(
            cover_slide_id=Subquery(first_shown.values("slide_id")[:1]),
            shown_count=Count("places", filter=Q(places__hidden=False)),
        )
        .order_by("-created_at", "-pk")
    )


def unfinished_imports(member: Member) -> list[Source]:
    """Uploads of the portal that have not become a presentation (yet)."""
    return list(
        Source.objects.filter(portal_id=member.portal_id, presentations__isnull=True)
        .exclude(status=Source.Status.READY)
        .order_by("-created_at")[:RECENT_IMPORTS]
    )


@require_POST
@member_page
def switch_portal(request: HttpRequest, member: Member) -> HttpResponse:
    try:
        portal_id = int(request.POST.get("portal", ""))
    except ValueError:
        portal_id = 0
    choose_portal(request, portal_id)

    # The page the switch was made from belongs to the other portal.
    return redirect("library")
