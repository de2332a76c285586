"""Who is who in a portal: the one place that turns a login into a member."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from entatio.people.models import (
    Invitation,
    Member,
    Portal,
    SharingGroup,
    Signup,
    SignupForm,
)


def memberships_of(user: AbstractBaseUser | AnonymousUser) -> list[Member]:
    if not user.is_authenticated:
        return []
    return list(
        Member.objects.filter(user_id=user.pk)
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
        Member.objects.filter(user_id=user.pk, portal_id=portal_id)
        .select_related("portal", "portal__organization")
        .first()
    )
    if member is None:
        raise Http404("No such portal")
    return member


def require_owner(member: Member) -> None:
    if member.role != Member.Role.OWNER:
        raise PermissionDenied("Only owners of this portal may do this.")


def group_for(member: Member, group_id: int) -> SharingGroup:
    """A group of the member's portal to manage, for authors.

    A member of the group learns it exists (403); anybody else gets 404.
    """
    group = SharingGroup.objects.filter(portal_id=member.portal_id, pk=group_id).first()
    if group is None:
        raise Http404("No such group")
    if member.can_author:
        return group
    if group.members.filter(pk=member.pk).exists():
        raise PermissionDenied("Only authors may change a group.")
    raise Http404("No such group")


def invitation_for(member: Member, invitation_id: int) -> Invitation:
    """An invitation of the member's portal, for authors; 404 for others."""
    if not member.can_author:
        raise Http404("No such invitation")
    invitation = (
        Invitation.objects.filter(portal_id=member.portal_id, pk=invitation_id)
        .select_related("member", "portal", "portal__organization")
        .first()
    )
    if invitation is None:
        raise Http404("No such invitation")
    return invitation


def signup_form_for(member: Member, form_id: int) -> SignupForm:
    """A sign-up form of the member's portal, for authors; 404 for others."""
    if not member.can_author:
        raise Http404("No such sign-up form")
    form = SignupForm.objects.filter(portal_id=member.portal_id, pk=form_id).first()
    if form is None:
        raise Http404("No such sign-up form")
    return form


def signup_for(member: Member, signup_id: int) -> Signup:
    """A sign-up to one of the portal's forms, for authors; 404 for others."""
    if not member.can_author:
        raise Http404("No such sign-up")
    signup = (
        Signup.objects.filter(form__portal_id=member.portal_id, pk=signup_id)
        .select_related("form", "form__portal", "form__portal__organization")
        .first()
    )
    if signup is None:
        raise Http404("No such sign-up")
    return signup


def portal_member_for(member: Member, member_id: int) -> Member:
    """Another member of the same portal, for its owners; 404 for others."""
    other = Member.objects.filter(portal_id=member.portal_id, pk=member_id).first()
    if other is None:
        raise Http404("No such member")
    require_owner(member)
    return other
