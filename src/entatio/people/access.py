"""Who is who in a portal: the one place that turns a login into a member."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import Http404

from entatio.people.models import Member, Portal


def memberships_of(user: AbstractBaseUser | AnonymousUser) -> list[Member]:
    if not user.is_authenticated:
        return []
    return list(
        Member.objects.filter(user=user)
        .select_related("portal", "portal__organization")
        .order_by("portal_id")
    )


def member_in_portal(
    user: AbstractBaseUser | AnonymousUser, portal: Portal | int
) -> Member:
    """The user's member in that portal, or 404 as if the portal did not exist."""
    portal_id = portal.pk if isinstance(portal, Portal) else portal
    if not user.is_authenticated:
        raise Http404("No such portal")
    member = (
        Member.objects.filter(user=user, portal_id=portal_id)
        .select_related("portal", "portal__organization")
        .first()
    )
    if member is None:
        raise Http404("No such portal")
    return member
