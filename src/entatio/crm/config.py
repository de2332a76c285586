"""How an organization reaches its Salesforce org: read from settings or env.

``settings.ENTATIO_SALESFORCE`` maps organization slugs to connections::

    ENTATIO_SALESFORCE = {
        "acme": {
            "login_url": "https://acme.my.salesforce.com",
            "client_id": "...",
            # OAuth 2.0 client credentials:
            "client_secret": "...",
            # or the JWT bearer flow:
            "username": "integration@acme.example",
            "private_key_file": "/etc/entatio/salesforce.key",
        }
    }

Without it, ``ENTATIO_SALESFORCE_LOGIN_URL``, ``_CLIENT_ID``,
``_CLIENT_SECRET``, ``_USERNAME``, ``_PRIVATE_KEY_FILE`` (and
``_ORGANIZATION``, a slug, default the first organization) configure one.
Secrets are held in fields that ``repr`` leaves out, and nothing logs them.
"""

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from django.conf import settings

from entatio.people.models import Organization

ENVIRONMENT_PREFIX = "ENTATIO_SALESFORCE_"


class ConfigurationError(ValueError):
    """A Salesforce connection that cannot work as configured; says what to fix."""


@dataclass(frozen=True)
class SalesforceConfig:
    login_url: str
    client_id: str = field(repr=False)
    client_secret: str = field(default="", repr=False)
    username: str = ""
    private_key: str = field(default="", repr=False)
    private_key_file: str = ""
    # The JWT's audience; Salesforce wants its login host, not My Domain.
    audience: str = ""
    api_version: str = "62.0"
    # Seconds for one HTTP request; a Bulk job is polled, never waited on.
    timeout: float = 30.0
    # A CA bundle to trust instead of the system's, for a private gateway.
    ca_bundle: str = ""
    max_attempts: int = 5
    backoff_seconds: float = 2.0
    backoff_max_seconds: float = 120.0
    poll_seconds: float = 5.0
    # Up to collection_size rows go in one sObject Collections call; a send
    # of more than bulk_threshold rows goes through Bulk API 2.0 instead.
    collection_size: int = 200
    bulk_threshold: int = 300
    batch_size: int = 5000
    interval_seconds: int = 900
    lease_seconds: int = 900
    campaign_member_status: str = "Responded"

    @property
    def flow(self) -> str:
        if self.username and (self.private_key or self.private_key_file):
            return "jwt-bearer"
        return "client-credentials"

    def signing_key(self) -> str:
        if self.private_key:
            return self.private_key
        try:
            return Path(self.private_key_file).read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigurationError(
                f"Cannot read the Salesforce private key file: {error.strerror}; "
                "check private_key_file."
            ) from error


def salesforce_config(organization: Organization) -> SalesforceConfig | None:
    """The organization's connection, or None when it has none."""
    entries: dict[str, Any] = getattr(settings, "ENTATIO_SALESFORCE", None) or {}
    entry = entries.get(organization.slug)
    if entry is None and not entries:
        entry = _from_environment(organization)
    if entry is None:
        return None
    return config_from_mapping(entry)


def config_from_mapping(entry: dict[str, Any]) -> SalesforceConfig:
    known = {f.name: f for f in fields(SalesforceConfig)}
    unknown = sorted(set(entry) - set(known))
    if unknown:
        raise ConfigurationError(
            f"Unknown Salesforce settings: {', '.join(unknown)}; "
            f"known ones are {', '.join(sorted(known))}."
        )
    if not entry.get("login_url") or not entry.get("client_id"):
        raise ConfigurationError(
            "A Salesforce connection needs login_url and client_id."
        )

    config = SalesforceConfig(**entry)
    has_key = config.private_key or config.private_key_file
    if not config.client_secret and not (config.username and has_key):
        raise ConfigurationError(
            "A Salesforce connection needs client_secret (client credentials) "
            "or username with private_key or private_key_file (JWT bearer)."
        )
    return config


def _from_environment(organization: Organization) -> dict[str, Any] | None:
    if not os.environ.get(ENVIRONMENT_PREFIX + "CLIENT_ID"):
        return None
    wanted = os.environ.get(ENVIRONMENT_PREFIX + "ORGANIZATION")
    if wanted is not None and wanted != organization.slug:
        return None
    if wanted is None:
        first = Organization.objects.order_by("pk").values_list("pk", flat=True)
        if first.first() != organization.pk:
            return None

    names = ("login_url", "client_id", "client_secret", "username")
    entry: dict[str, Any] = {
        name: os.environ.get(ENVIRONMENT_PREFIX + name.upper(), "") for name in names
    }
    entry["private_key_file"] = os.environ.get(
        ENVIRONMENT_PREFIX + "PRIVATE_KEY_FILE", ""
    )
    return entry
