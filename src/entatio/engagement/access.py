"""Access to presentations, and the activity records that follow access.

A member sees a presentation of their portal when it is shared with one of
their groups; owners and authors see every presentation of the portal.
Access creates one activity record per (member, slide) with one set-based
insert; losing access archives records and never deletes them.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.utils import timezone

from entatio.engagement.models import Share
from entatio.library.models import Presentation, PresentationSlide, Slide
from entatio.people.access import member_in_portal
from entatio.people.models import Member, SharingGroup


def visible_presentations(member: Member) -> QuerySet[Presentation]:
    presentations = Presentation.objects.filter(portal_id=member.portal_id)
    if member.can_author:
        return presentations
    shared = Share.objects.filter(
        presentation=OuterRef("pk"),
        revoked_at__isnull=True,
        group__members=member,
    )
    return presentations.filter(Exists(shared))


def presentation_for(member: Member, presentation_id: int) -> Presentation:
    """The presentation if the member may see it; 404 otherwise, never 403."""
    presentation = visible_presentations(member).filter(pk=presentation_id).first()
    if presentation is None:
        raise Http404("No such presentation")
    return presentation


def presentation_of_user(
    user: AbstractBaseUser | AnonymousUser, presentation_id: int
) -> tuple[Member, Presentation]:
    """The user's member in the presentation's own portal, and the presentation.

    For pages reached by a link to one presentation (a discussion, a live
    session) rather than within the portal the user is browsing: 404 when the
    user is no member there or may not see it, as if it did not exist.
    """
    portal_id = (
        Presentation.objects.filter(pk=presentation_id)
        .values_list("portal_id", flat=True)
        .first()
    )
    if portal_id is None:
        raise Http404("No such presentation")
    member = member_in_portal(user, portal_id)
    return member, presentation_for(member, presentation_id)


def presentation_to_edit(member: Member, presentation_id: int) -> Presentation:
    presentation = presentation_for(member, presentation_id)
    if not member.can_author:
        raise PermissionDenied("Only authors may change a presentation.")
    return presentation


def visible_slides(member: Member) -> QuerySet[Slide]:
    """Slides the member may see: shown in a presentation visible to them."""
    slides = Slide.objects.filter(portal_id=member.portal_id)
    if member.can_author:
        return slides
    places = PresentationSlide.objects.filter(
        slide=OuterRef("pk"),
        hidden=False,
        presentation__in=visible_presentations(member),
    )
    return slides.filter(Exists(places))


def slide_for(member: Member, slide_id: int) -> Slide:
    slide = visible_slides(member).filter(pk=slide_id).first()
    if slide is None:
        raise Http404("No such slide")
    return slide


def audience(presentation: Presentation) -> QuerySet[Member]:
    """Members of the groups the presentation is shared with."""
    return (
        Member.objects.filter(
            groups__shares__presentation=presentation,
            groups__shares__revoked_at__isnull=True,
        )
        .distinct()
        .select_related("account")
    )


# The access path of a (member, slide) pair, as SQL shared by the insert and
# the archive statements below: a live share of a presentation that shows
# the slide, with a group the member belongs to.
_ACCESS_PAIRS = """
    SELECT DISTINCT gm.member_id, ps.slide_id
    FROM engagement_share s
    JOIN people_sharinggroup_members gm ON gm.sharinggroup_id = s.group_id
    JOIN library_presentationslide ps ON ps.presentation_id = s.presentation_id
    WHERE s.revoked_at IS NULL AND ps.hidden = %s
"""


def sync_records(presentation_ids: list[int] | None = None) -> tuple[int, int]:
    """Create missing records and archive those without access; counts both.

    ``presentation_ids`` narrows the insert to those presentations' shares;
    archiving always checks every path, since a slide can be reachable
    through another presentation.
    """
    now = timezone.now()
    scope, params = "", []
    if presentation_ids is not None:
        if not presentation_ids:
            return 0, 0
        marks = ",".join(["%s"] * len(presentation_ids))
        scope = f" AND s.presentation_id IN ({marks})"
        params = list(presentation_ids)

    insert = f"""
        INSERT INTO engagement_activityrecord
            (member_id, slide_id, visits, dwell_ms, live_visits,
             self_paced_visits, archived, created_at)
        SELECT pairs.member_id, pairs.slide_id, 0, 0, 0, 0, %s, %s
        FROM ({_ACCESS_PAIRS}{scope}) AS pairs
        WHERE true
        ON CONFLICT (member_id, slide_id) DO UPDATE SET archived = %s
        WHERE engagement_activityrecord.archived = %s
    """
    archive = f"""
        UPDATE engagement_activityrecord SET archived = %s
        WHERE archived = %s AND NOT EXISTS (
            SELECT 1 FROM ({_ACCESS_PAIRS}) AS pairs
            WHERE pairs.member_id = engagement_activityrecord.member_id
              AND pairs.slide_id = engagement_activityrecord.slide_id
        )
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(insert, [False, now, False, *params, False, True])
        created = cursor.rowcount
        cursor.execute(archive, [True, False, False])
        archived = cursor.rowcount
    return created, archived


def share_presentation(
    presentation: Presentation, group: SharingGroup, by: Member | None = None
) -> Share:
    """Share with a group; the records are made in the background."""
    if group.portal_id != presentation.portal_id:
        raise ValueError("A presentation can only be shared within its own portal.")

    share, created = Share.objects.get_or_create(
        presentation=presentation, group=group, defaults={"shared_by": by}
    )
    if not created and share.revoked_at is not None:
        share.revoked_at = None
        share.save(update_fields=["revoked_at"])

    schedule_sync([presentation.pk])
    return share


def revoke_share(presentation: Presentation, group: SharingGroup) -> None:
    Share.objects.filter(
        presentation=presentation, group=group, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    schedule_sync([presentation.pk])


def schedule_sync(presentation_ids: list[int]) -> None:
    """Sync records once the caller's transaction has committed."""
    from entatio.engagement.tasks import sync_records_task

    ids = sorted(set(presentation_ids))
    transaction.on_commit(lambda: sync_records_task.enqueue(ids))
