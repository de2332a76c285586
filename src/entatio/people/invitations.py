"""Invitations: single-use links, valid for a while, that give members a login.

An invitation is made for a member who cannot sign in to their portal yet.
The link holds a random token of which only a digest is stored. Accepting it
links the member to the login of their e-mail address (made then, with the
password the person chooses) and uses the token up; resending makes a new
token, so an older link stops working.
"""

import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from entatio.people.mail import public_link, send_message
from entatio.people.models import Invitation, Member, Portal

logger = logging.getLogger(__name__)

DEFAULT_VALID_DAYS = 14


class InvitationError(ValueError):
    """An invitation that cannot be used or changed, with what to do."""


@dataclass
class SentInvitation:
    invitation: Invitation
    link: str

    @property
    def member(self) -> Member:
        return self.invitation.member


def valid_for() -> timedelta:
    days: Any = settings.ENTATIO.get("INVITATION_DAYS", DEFAULT_VALID_DAYS)
    return timedelta(days=int(days))


def invitation_link(token: str) -> str:
    return public_link(reverse("accept_invitation", args=[token]))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, _digest(token)


def needs_invitation(member: Member, now: datetime) -> bool:
    """No login in the portal yet, and no invitation that still works."""
    if member.user_id is not None:
        return False
    pending = member.invitations.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    )
    return not pending.exists()


def invite_members(
    members: Iterable[Member],
    invited_by: Member | None = None,
    connection: Any = None,
) -> list[SentInvitation]:
    """Invite each member who needs it and mail them; others are left alone.

    Inviting again sends nothing to those with a working invitation or a
    login; ``resend_invitation`` is for sending once more on purpose.
    """
    now = timezone.now()
    sent = []
    for member in members:
        if not needs_invitation(member, now):
            continue
        token, digest = _new_token()
        invitation = Invitation.objects.create(
            portal_id=member.portal_id,
            member=member,
            token_digest=digest,
            invited_by=invited_by,
            sent_at=now,
            expires_at=now + valid_for(),
        )
        link = invitation_link(token)
        _mail(invitation, link, connection)
        sent.append(SentInvitation(invitation, link))
    return sent


def resend_invitation(invitation: Invitation, connection: Any = None) -> str:
    """Mail a fresh link with a fresh validity; the old link stops working."""
    if invitation.accepted_at is not None:
        raise InvitationError("This invitation was accepted already.")
    if invitation.revoked_at is not None:
        raise InvitationError("This invitation was revoked; invite the person anew.")

    token, digest = _new_token()
    now = timezone.now()
    invitation.token_digest = digest
    invitation.sent_at = now
    invitation.expires_at = now + valid_for()
    invitation.send_count += 1
    invitation.save(
        update_fields=["token_digest", "sent_at", "expires_at", "send_count"]
    )
    link = invitation_link(token)
    _mail(invitation, link, connection)
    return link


def revoke_invitation(invitation: Invitation) -> None:
    """The link stops working; an accepted invitation cannot be revoked."""
    if invitation.accepted_at is not None:
        raise InvitationError(
            "This invitation was accepted already; change the member instead."
        )
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])


def _mail(invitation: Invitation, link: str, connection: Any) -> None:
    member = invitation.member
    context = {
        "member": member,
        "portal": member.portal,
        "invited_by": invitation.invited_by,
        "link": link,
        "expires_at": invitation.expires_at,
    }
    send_message("invitation", member.email, context, connection)


def invitation_of_token(token: str) -> Invitation:
    """The usable invitation behind a link, or why it cannot be used."""
    invitation = (
        Invitation.objects.filter(token_digest=_digest(token))
        .select_related("member", "portal", "portal__organization")
        .first()
    )
    if invitation is None:
        raise InvitationError(
            "This invitation link is not valid; it may have been replaced "
            "by a newer one. Ask for a new invitation."
        )
    status = invitation.status_at(timezone.now())
    if status == Invitation.Status.ACCEPTED:
        raise InvitationError("This invitation was used already; log in instead.")
    if status == Invitation.Status.REVOKED:
        raise InvitationError("This invitation was withdrawn.")
    if status == Invitation.Status.EXPIRED:
        raise InvitationError("This invitation has expired; ask for a new one.")
    return invitation


def existing_login(email: str) -> AbstractBaseUser | None:
    user_model = get_user_model()
    return user_model.objects.filter(username__iexact=email).first()


def accept_invitation(token: str, password: str | None = None) -> Member:
    """Use the invitation up and give its member their login.

    A person who already signs in elsewhere with that address keeps their
    login and password; anybody else gets a new login with ``password``.
    """
    with transaction.atomic():
        invitation = invitation_of_token(token)
        # Two clicks on one link at once: the row lock lets one through.
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None or locked.token_digest != _digest(token):
            raise InvitationError("This invitation was used already; log in instead.")

        member = invitation.member
        user = existing_login(member.email) or _new_login(member, password)
        member.user_id = user.pk
        member.save(update_fields=["user"])
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["accepted_at"])

    logger.info("Invitation %s accepted in portal %s", locked.pk, member.portal_id)
    return member


def _new_login(member: Member, password: str | None) -> AbstractBaseUser:
    if not password:
        raise InvitationError("Choose a password to finish joining.")
    user_model = get_user_model()
    return user_model.objects.create_user(
        username=member.email,
        email=member.email,
        password=password,
        first_name=member.first_name,
        last_name=member.last_name,
    )


@dataclass
class InvitationRow:
    invitation: Invitation
    status: str


def invitations_of(portal: Portal) -> list[InvitationRow]:
    """The portal's invitations, newest first, each with its status now."""
    now = timezone.now()
    invitations = (
        Invitation.objects.filter(portal=portal)
        .select_related("member")
        .order_by("-sent_at", "-pk")
    )
    return [InvitationRow(i, i.status_at(now)) for i in invitations]


def count_by_status(rows: Iterable[InvitationRow]) -> dict[str, int]:
    counts = {status.value: 0 for status in Invitation.Status}
    for row in rows:
        counts[row.status] += 1
    return counts
