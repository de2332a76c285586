"""Who may present and who may attend: those who may see the presentation.

The portal comes from the session or presentation asked for, and the signed-in
user must be a member of it; past that the engagement access functions decide,
so a session is visible exactly where its presentation is. Outsiders get 404;
a member who may attend but tries a presenter's action gets 403.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from entatio.engagement.access import presentation_for, presentation_of_user
from entatio.library.models import Presentation
from entatio.live.models import LiveSession
from entatio.people.access import member_in_portal
from entatio.people.models import Member

User = AbstractBaseUser | AnonymousUser


def session_for(user: User, code: str) -> tuple[Member, LiveSession]:
    """The user's member and the session, if they may see its presentation."""
    session = (
        LiveSession.objects.filter(code=code)
        .select_related("presentation", "portal", "portal__organization")
        .first()
    )
    if session is None:
        raise Http404("No such live session")
    member = member_in_portal(user, session.portal_id)
    presentation_for(member, session.presentation_id)
    return member, session


def session_to_present(user: User, code: str) -> tuple[Member, LiveSession]:
    member, session = session_for(user, code)
    require_presenter(member)
    return member, session


def presentation_to_present(
    user: User, presentation_id: int
) -> tuple[Member, Presentation]:
    """A presentation the user may start a live session of; authors only."""
    member, presentation = presentation_of_user(user, presentation_id)
    require_presenter(member)
    return member, presentation


def require_presenter(member: Member) -> None:
    # Presenting is kept to the portal's authors and owners for now.
    if not member.can_author:
        raise PermissionDenied("Only authors of this portal may present live.")
