"""Recording what attendees saw, in the background once a move is committed.

A failed run can be run again: the events' ids are made from the display and
the member, so nothing is stored twice.
"""

from django_tasks import task

from entatio.live import attendance
from entatio.live.models import LiveSession, SlideDisplay


@task()
def record_display_task(display_id: int) -> int:
    display = SlideDisplay.objects.select_related(
        "session", "session__portal", "session__presentation"
    ).get(pk=display_id)
    return attendance.record_display(display.session, display)


@task()
def stage_session_task(session_id: int) -> None:
    session = LiveSession.objects.select_related(
        "portal__organization", "presentation"
    ).get(pk=session_id)
    attendance.stage_for_crm(session)
