"""Reading discussions: one thread in order, and a presentation's threads."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Prefetch, Q, QuerySet

from entatio.discussions.models import Post
from entatio.library.editing import ordered_places
from entatio.library.models import Presentation, Slide


@dataclass(frozen=True)
class Discussion:
    """The thread of one slide, or of the presentation when ``slide`` is None.

    ``position`` is where the viewer shows the slide; None when it is hidden.
    """

    presentation: Presentation
    slide: Slide | None
    position: int | None
    hidden: bool
    posts: int
    last_post_at: datetime | None


def thread(presentation: Presentation, slide: Slide | None) -> list[Post]:
    """The posts that start the thread, oldest first, each with its replies."""
    return list(_first_posts(presentation).filter(slide=slide))


def threads_by_slide(presentation: Presentation) -> dict[int | None, list[Post]]:
    """Every thread of the presentation at once, by slide id; None for the whole."""
    threads: dict[int | None, list[Post]] = {}
    for post in _first_posts(presentation):
        threads.setdefault(post.slide_id, []).append(post)
    return threads


def _first_posts(presentation: Presentation) -> QuerySet[Post]:
    replies = Post.objects.select_related("author").order_by("created_at", "id")
    return (
        Post.objects.filter(presentation=presentation, parent__isnull=True)
        .select_related("author")
        .prefetch_related(Prefetch("replies", queryset=replies))
        .order_by("created_at", "id")
    )


def discussions_of(presentation: Presentation) -> list[Discussion]:
    """Every thread with posts: the presentation's first, then by slide order."""
    counts: dict[int | None, Mapping[str, Any]] = {
        row["slide_id"]: row
        for row in Post.objects.filter(presentation=presentation)
        .values("slide_id")
        .annotate(
            posts=Count("pk", filter=Q(deleted_at__isnull=True)),
            last_post_at=Max("created_at"),
        )
    }
    found = []
    whole = counts.get(None)
    if whole:
        found.append(_discussion(presentation, None, None, False, whole))
    # The position is the one the viewer pages by, which skips hidden slides.
    shown = 0
    for place in ordered_places(presentation):
        shown += 0 if place.hidden else 1
        row = counts.get(place.slide_id)
        if row:
            position = None if place.hidden else shown
            found.append(
                _discussion(presentation, place.slide, position, place.hidden, row)
            )
    return found


def _discussion(
    presentation: Presentation,
    slide: Slide | None,
    position: int | None,
    hidden: bool,
    row: Mapping[str, Any],
) -> Discussion:
    return Discussion(
        presentation=presentation,
        slide=slide,
        position=position,
        hidden=hidden,
        posts=row["posts"],
        last_post_at=row["last_post_at"],
    )
