"""Portals of an organization, and the roles of their members."""

import logging

from django.db import transaction
from django.utils.text import slugify

from entatio.people.models import Member, Portal

logger = logging.getLogger(__name__)


class PortalError(ValueError):
    """A portal or role change that cannot be made, with what to fix."""


def change_role(member: Member, role: str) -> Member:
    """Give the member a new role; a portal always keeps one owner."""
    if role not in Member.Role.values:
        raise PortalError(f"{role!r} is not a role; pick owner, author or member.")
    if member.role == role:
        return member

    with transaction.atomic():
        # Locking the owners keeps two owners from demoting each other at once.
        owners = list(
            Member.objects.select_for_update()
            .filter(portal_id=member.portal_id, role=Member.Role.OWNER)
            .values_list("pk", flat=True)
        )
        if owners == [member.pk]:
            raise PortalError("A portal needs an owner; make someone else owner first.")
        member.role = role
        member.save(update_fields=["role"])
    logger.info("Member %s of portal %s is now %s", member.pk, member.portal_id, role)
    return member


def create_portal(owner: Member, name: str, kind: str) -> Portal:
    """A new portal of the owner's organization, with them as its owner."""
    name = " ".join(name.split())[:200]
    if not name:
        raise PortalError("Give the portal a name.")
    if kind not in Portal.Kind.values:
        raise PortalError(f"{kind!r} is not a kind of portal.")
    organization = owner.portal.organization

    with transaction.atomic():
        portal = Portal.objects.create(
            organization=organization,
            name=name,
            slug=_free_slug(organization.pk, name),
            kind=kind,
        )
        Member.objects.create(
            portal=portal,
            user_id=owner.user_id,
            email=owner.email,
            first_name=owner.first_name,
            last_name=owner.last_name,
            role=Member.Role.OWNER,
        )
    logger.info("Portal %s made in organization %s", portal.slug, organization.slug)
    return portal


def _free_slug(organization_id: int, name: str) -> str:
    base = slugify(name)[:40] or "portal"
    taken = set(
        Portal.objects.filter(
            organization_id=organization_id, slug__startswith=base
        ).values_list("slug", flat=True)
    )
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug
