"""Who may see what: organizations, their portals, members and groups."""

from datetime import datetime

from django.conf import settings
from django.db import models


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    seen_after_seconds = models.FloatField(
        default=3.0, help_text="On-screen time within a visit for a slide to count."
    )
    event_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Raw events older than this are deleted; empty keeps them all.",
    )
    events_purged_before = models.DateTimeField(null=True, blank=True, editable=False)
    accounts_must_be_known = models.BooleanField(
        default=False,
        help_text="Invitations and imports refuse people of accounts not yet known.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Portal(models.Model):
    class Kind(models.TextChoices):
        INTERNAL = "internal", "Internal"
        CUSTOMER = "customer", "Customer"
        PARTNER = "partner", "Partner"
        EVENT = "event", "Event"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="portals"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField()
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.INTERNAL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "slug"], name="portal_slug_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    """A customer company; the CRM fills in the sales, members point here."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="accounts"
    )
    name = models.CharField(max_length=255)
    crm_id = models.CharField(max_length=64, blank=True, default="")
    segment = models.CharField(max_length=100, blank=True, default="")
    industry = models.CharField(max_length=100, blank=True, default="")
    account_type = models.CharField(max_length=100, blank=True, default="")
    employees = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(
        max_digits=18, decimal_places=2, null=True, blank=True
    )
    region = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="account_name_unique"
            )
        ]
        indexes = [models.Index(fields=["organization", "crm_id"])]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        AUTHOR = "author", "Author"
        MEMBER = "member", "Member"

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="memberships",
    )
    email = models.EmailField()
    first_name = models.CharField(max_length=150, blank=True, default="")
    last_name = models.CharField(max_length=150, blank=True, default="")
    role = models.CharField(max_length=20, choices=Role, default=Role.MEMBER)
    user_type = models.CharField(max_length=100, blank=True, default="")
    account = models.ForeignKey(
        Account,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    title = models.CharField(max_length=200, blank=True, default="")
    region = models.CharField(max_length=100, blank=True, default="")
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["portal", "email"], name="member_email_unique"
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return full or self.email

    @property
    def can_author(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.AUTHOR)


class SharingGroup(models.Model):
    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(Member, related_name="groups", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["portal", "name"], name="group_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Invitation(models.Model):
    """A single-use, expiring link that gives a member their login."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    portal = models.ForeignKey(
        Portal, on_delete=models.CASCADE, related_name="invitations"
    )
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="invitations"
    )
    # Only a digest is kept, so a copy of the database opens no portal.
    token_digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        Member,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations_sent",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField()
    send_count = models.PositiveIntegerField(default=1)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["portal", "created_at"])]

    def __str__(self) -> str:
        return f"Invitation of {self.member.email}"

    def status_at(self, now: datetime) -> str:
        if self.accepted_at is not None:
            return self.Status.ACCEPTED
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.expires_at <= now:
            return self.Status.EXPIRED
        return self.Status.PENDING


class SignupForm(models.Model):
    """A public link where people join a portal, or one of its groups."""

    class Field(models.TextChoices):
        NAME = "name", "Name"
        COMPANY = "company", "Company"
        ROLE = "role", "Role"
        TITLE = "title", "Title"
        REGION = "region", "Region"

    portal = models.ForeignKey(
        Portal, on_delete=models.CASCADE, related_name="signup_forms"
    )
    group = models.ForeignKey(
        SharingGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="signup_forms",
    )
    key = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=200)
    fields = models.JSONField(default=list, blank=True)
    questions = models.JSONField(default=list, blank=True)
    allowed_domains = models.JSONField(default=list, blank=True)
    denied_domains = models.JSONField(default=list, blank=True)
    needs_approval = models.BooleanField(default=False)
    is_open = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title


class Signup(models.Model):
    """One person's answers to a sign-up form, from sent to a member."""

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", "Waiting for e-mail verification"
        AWAITING_APPROVAL = "awaiting", "Waiting for approval"
        JOINED = "joined", "Joined"
        REJECTED = "rejected", "Rejected"

    form = models.ForeignKey(
        SignupForm, on_delete=models.CASCADE, related_name="signups"
    )
    email = models.EmailField()
    answers = models.JSONField(default=dict, blank=True)
    # A hash as made for users; the login is made only once the address is
    # verified, so nobody can hold an address they cannot read.
    password_hash = models.CharField(max_length=128)
    status = models.CharField(max_length=20, choices=Status, default=Status.UNVERIFIED)
    member = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["form", "status"])]

    def __str__(self) -> str:
        return f"Sign-up of {self.email}"
