"""Running a live session: start, show a slide, check in, end.

Every state lives in the database, so several web processes can serve one
session; the channel layer only carries the news. What attendees saw is
recorded each time a slide leaves the screen (see ``attendance``), by a
background task once the transaction that moved the session on commits.
"""

import secrets

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from entatio.engagement.access import audience
from entatio.library.editing import shown_slides
from entatio.library.models import Presentation
from entatio.live import attendance, news
from entatio.live.models import LiveSession, Presence, SlideDisplay
from entatio.live.state import current_display
from entatio.live.tasks import record_display_task, stage_session_task
from entatio.people.models import Member

# No 0/O or 1/I/L: a code is read aloud and typed from a projected screen.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


class SessionEnded(ValueError):
    """An action on a session that has already ended."""


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def start_session(
    presenter: Member, presentation: Presentation, mode: str
) -> LiveSession:
    """Open a session on the first shown slide; the caller checked the presenter."""
    now = timezone.now()
    with transaction.atomic():
        session = LiveSession.objects.create(
            portal_id=presentation.portal_id,
            presentation=presentation,
            presenter=presenter,
            mode=mode,
            code=new_code(),
            started_at=now,
        )
        slides = shown_slides(presentation)
        if slides:
            SlideDisplay.objects.create(
                session=session, slide=slides[0], position=1, shown_at=now
            )
    return session


def sessions_on(presentations: QuerySet[Presentation]) -> QuerySet[LiveSession]:
    """Sessions running now of these presentations, newest first."""
    return (
        LiveSession.objects.filter(presentation__in=presentations, ended_at=None)
        .select_related("presentation", "portal")
        .order_by("-started_at")
    )


def show_position(session: LiveSession, position: int) -> SlideDisplay | None:
    """Put the slide at this 1-based position on screen; the old one leaves it.

    Showing the slide already on screen changes nothing, so a repeated click
    does not split a display in two.
    """
    slides = shown_slides(session.presentation)
    if not slides:
        return None
    position = min(max(position, 1), len(slides))
    slide = slides[position - 1]

    with transaction.atomic():
        _lock(session)
        shown = current_display(session)
        if shown and shown.position == position and shown.slide_id == slide.pk:
            return shown
        now = timezone.now()
        if shown is not None:
            shown.ended_at = now
            shown.save(update_fields=["ended_at"])
        display = SlideDisplay.objects.create(
            session=session, slide=slide, position=position, shown_at=now
        )
        transaction.on_commit(lambda: news.slide_changed(session))
        if shown is not None:
            record_after_commit(shown)
    return display


def move_by(session: LiveSession, step: int) -> SlideDisplay | None:
    shown = current_display(session)
    return show_position(session, (shown.position if shown else 0) + step)


def end_session(session: LiveSession) -> None:
    """Close the session: the last slide leaves the screen, everybody leaves,
    what they saw is recorded and the session is staged for the CRM, both in
    the background."""
    with transaction.atomic():
        _lock(session)
        now = timezone.now()
        shown = current_display(session)
        if shown is not None:
            shown.ended_at = now
            shown.save(update_fields=["ended_at"])
        session.presences.filter(ended_at=None).update(ended_at=now)
        session.ended_at = now
        session.save(update_fields=["ended_at"])
        transaction.on_commit(lambda: news.session_ended(session))
        if shown is not None:
            record_after_commit(shown)
        transaction.on_commit(lambda: stage_session_task.enqueue(session.pk))


def record_after_commit(display: SlideDisplay) -> None:
    """Record the display that left the screen, in the background."""
    transaction.on_commit(lambda: record_display_task.enqueue(display.pk))


def _lock(session: LiveSession) -> None:
    """Serialize moves of one session; refuse them once it has ended."""
    ended_at = (
        LiveSession.objects.select_for_update()
        .filter(pk=session.pk)
        .values_list("ended_at", flat=True)
        .get()
    )
    if ended_at is not None:
        session.ended_at = ended_at
        raise SessionEnded("This live session has ended.")


# Presence -------------------------------------------------------------------


def may_attend(session: LiveSession) -> QuerySet[Member]:
    """Members with access to the presentation, the presenter aside."""
    members = audience(session.presentation)
    if session.presenter_id is None:
        return members
    return members.exclude(pk=session.presenter_id)


def join_online(session: LiveSession, member: Member, channel_name: str) -> None:
    """An attendee's socket opened; the presenter's own sockets are not presence."""
    if session.ended_at is not None or member.pk == session.presenter_id:
        return
    now = timezone.now()
    Presence.objects.create(
        session=session,
        member=member,
        way=Presence.Way.ONLINE,
        channel_name=channel_name,
        started_at=now,
    )
    attendance.open_live_visit(session, member, now)


def leave_online(channel_name: str) -> None:
    Presence.objects.filter(channel_name=channel_name, ended_at=None).update(
        ended_at=timezone.now()
    )


def check_in(session: LiveSession, member: Member) -> None:
    """Mark an attendee present on site; checking in twice changes nothing."""
    if session.ended_at is not None:
        raise SessionEnded("This live session has ended.")
    already = session.presences.filter(
        member=member, way=Presence.Way.ON_SITE, ended_at=None
    )
    if already.exists():
        return
    now = timezone.now()
    Presence.objects.create(
        session=session, member=member, way=Presence.Way.ON_SITE, started_at=now
    )
    attendance.open_live_visit(session, member, now)


def check_out(session: LiveSession, member: Member) -> None:
    session.presences.filter(
        member=member, way=Presence.Way.ON_SITE, ended_at=None
    ).update(ended_at=timezone.now())
