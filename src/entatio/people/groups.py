"""Sharing groups: made by name within a portal, filled with its members."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from entatio.people.models import Member, Portal, SharingGroup


class GroupError(ValueError):
    """A group change that cannot be made, with what to fix."""


def create_group(
    portal: Portal, name: str, members: Iterable[Member] = ()
) -> SharingGroup:
    """A new group of the portal with these members; names are unique per portal."""
    name = " ".join(name.split())[:200]
    if not name:
        raise GroupError("Give the group a name.")
    if SharingGroup.objects.filter(portal=portal, name__iexact=name).exists():
        raise GroupError(
            f"A group named “{name}” already exists in this portal; pick it instead."
        )

    try:
        with transaction.atomic():
            group = SharingGroup.objects.create(portal=portal, name=name)
            add_members(group, members)
    except IntegrityError as error:
        # Two authors creating the same name at once: the loser is told so.
        raise GroupError(f"A group named “{name}” was just created.") from error
    return group


def rename_group(group: SharingGroup, name: str) -> SharingGroup:
    """Give the group a new name that no other group of its portal has."""
    name = " ".join(name.split())[:200]
    if not name:
        raise GroupError("Give the group a name.")
    taken = SharingGroup.objects.filter(portal_id=group.portal_id, name__iexact=name)
    if taken.exclude(pk=group.pk).exists():
        raise GroupError(f"Another group is called “{name}”; pick another name.")

    group.name = name
    try:
        with transaction.atomic():
            group.save(update_fields=["name"])
    except IntegrityError as error:
        raise GroupError(f"A group named “{name}” was just created.") from error
    return group


def add_members(group: SharingGroup, members: Iterable[Member]) -> int:
    """Add members of the group's own portal; returns how many were given."""
    members = list(members)
    if any(m.portal_id != group.portal_id for m in members):
        raise GroupError("Only members of the group's own portal can join it.")
    group.members.add(*members)
    return len(members)


def remove_members(group: SharingGroup, members: Iterable[Member]) -> None:
    """Take members out; engagement archives their records on the signal."""
    group.members.remove(*members)
