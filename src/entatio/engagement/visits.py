"""The visit a viewer page belongs to, opened or continued as the page loads."""

from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.utils import timezone

from entatio.engagement.models import Visit
from entatio.library.models import Presentation
from entatio.people.models import Member


def continue_visit(
    member: Member, presentation: Presentation, now: datetime | None = None
) -> Visit:
    """The member's self-paced visit active within the gap, or a new one.

    The page names this visit in its events; if the member then stays away
    longer than the gap, the event intake starts a new visit and tells the
    page, so the rule lives in one place.
    """
    now = now or timezone.now()
    gap = timedelta(seconds=cast(int, settings.ENTATIO["VISIT_GAP_SECONDS"]))
    visit = (
        Visit.objects.filter(
            member=member,
            presentation=presentation,
            mode=Visit.Mode.SELF_PACED,
            last_activity_at__gte=now - gap,
        )
        .order_by("-last_activity_at")
        .first()
    )
    if visit is None:
        return Visit.objects.create(
            member=member,
            presentation=presentation,
            mode=Visit.Mode.SELF_PACED,
            started_at=now,
            last_activity_at=now,
        )

    if visit.last_activity_at < now:
        visit.last_activity_at = now
        visit.save(update_fields=["last_activity_at"])
    return visit
