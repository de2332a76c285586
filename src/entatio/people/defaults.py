"""The embedded default: one organization with one portal, made on first use.

A new ``ENTATIO_HOME`` starts empty; the command line and the web app both
need a portal to work in, so the first one to ask makes it. Later portals are
picked by slug or name.
"""

import logging
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from entatio.people.models import Member, Organization, Portal

logger = logging.getLogger(__name__)

DEFAULT_ORGANIZATION = ("My organization", "default")
DEFAULT_PORTAL = ("Main portal", "main")
DEFAULT_OWNER_EMAIL = "owner@entatio.localhost"
LOGINS_FILE = "logins.txt"


class PortalNotFound(LookupError):
    """No portal by that slug or name; the message lists the known ones."""


def default_portal() -> Portal:
    """The first portal there is, or a new organization with one portal."""
    portal = Portal.objects.select_related("organization").order_by("pk").first()
    if portal is not None:
        return portal

    with transaction.atomic():
        name, slug = DEFAULT_ORGANIZATION
        organization, _ = Organization.objects.get_or_create(
            slug=slug, defaults={"name": name}
        )
        name, slug = DEFAULT_PORTAL
        portal, _ = Portal.objects.get_or_create(
            organization=organization, slug=slug, defaults={"name": name}
        )
    logger.info("Made the default portal %s", portal.slug)
    return portal


def find_portal(name_or_slug: str | None) -> Portal:
    """The portal with this slug or name; the default one when none is named."""
    if not name_or_slug:
        return default_portal()

    matches = list(
        Portal.objects.select_related("organization")
        .filter(Q(slug__iexact=name_or_slug) | Q(name__iexact=name_or_slug))
        .order_by("pk")
    )
    if len(matches) == 1:
        return matches[0]

    known = ", ".join(Portal.objects.order_by("pk").values_list("slug", flat=True))
    if matches:
        raise PortalNotFound(
            f"Several portals are called {name_or_slug!r}; "
            f"name one by its slug instead ({known})."
        )
    raise PortalNotFound(
        f"There is no portal {name_or_slug!r}; use one of: {known or 'none yet'}."
    )


def ensure_owner_login(portal: Portal) -> tuple[Member, str | None]:
    """An owner of the portal who can sign in, and their password if known.

    When the portal has no owner with a login, one is made with a generated
    password, which is kept in ``ENTATIO_HOME`` so it can be shown again.
    """
    owner = (
        portal.members.filter(role=Member.Role.OWNER, user__isnull=False)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if owner is not None:
        return owner, stored_password(owner.email)

    password = secrets.token_urlsafe(12)
    owner = create_login(portal, DEFAULT_OWNER_EMAIL, password, Member.Role.OWNER)
    return owner, stored_password(owner.email)


def create_login(
    portal: Portal,
    email: str,
    password: str,
    role: str,
    **fields: object,
) -> Member:
    """A member who signs in with this e-mail; a new user gets this password.

    An existing user of that e-mail keeps their own password.
    """
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.filter(username=email).first()
        if user is None:
            user = user_model.objects.create_user(
                username=email, email=email, password=password
            )
            store_password(email, password)
        member, _ = Member.objects.update_or_create(
            portal=portal,
            email=email,
            defaults={"user": user, "role": role, **fields},
        )
    return member


def logins_path() -> Path:
    return Path(settings.HOME) / LOGINS_FILE


def store_password(email: str, password: str) -> None:
    """Keep a generated password where only this user of the machine reads it."""
    path = logins_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    known = _read_logins(path)
    known[email] = password
    text = "".join(f"{e} {p}\n" for e, p in sorted(known.items()))
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def stored_password(email: str) -> str | None:
    return _read_logins(logins_path()).get(email)


def _read_logins(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split(" ", 1) for line in path.read_text("utf-8").splitlines())
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}
