"""The CRM's side of the world: contacts and the sales to each account.

Accounts themselves live in ``people`` (members point at them); this app adds
what the CRM knows about them and keeps the two systems in step.
"""

from django.db import models

from entatio.people.models import Account, Member, Organization


class Contact(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contacts"
    )
    crm_id = models.CharField(max_length=64)
    account = models.ForeignKey(
        Account,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
    )
    email = models.EmailField(blank=True, default="")
    first_name = models.CharField(max_length=150, blank=True, default="")
    last_name = models.CharField(max_length=150, blank=True, default="")
    title = models.CharField(max_length=200, blank=True, default="")
    modified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "crm_id"], name="contact_crm_id_unique"
            )
        ]
        indexes = [models.Index(fields=["organization", "email"])]

    def __str__(self) -> str:
        return self.email or self.crm_id


class Opportunity(models.Model):
    """One deal with an account; closed-won amounts are the account's sales."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="opportunities"
    )
    crm_id = models.CharField(max_length=64)
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="opportunities"
    )
    name = models.CharField(max_length=255, blank=True, default="")
    stage = models.CharField(max_length=100, blank=True, default="")
    amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    close_date = models.DateField(null=True, blank=True)
    is_won = models.BooleanField(default=False)
    is_closed = models.BooleanField(default=False)
    product = models.CharField(max_length=200, blank=True, default="")
    modified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "crm_id"], name="opportunity_crm_id_unique"
            )
        ]
        indexes = [models.Index(fields=["account", "close_date"])]

    def __str__(self) -> str:
        return self.name or self.crm_id


class MemberContact(models.Model):
    """The CRM contact a member was matched to, by e-mail address."""

    member = models.OneToOneField(
        Member, on_delete=models.CASCADE, related_name="crm_contact"
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")


class OutboxEntry(models.Model):
    """The latest state of one Salesforce record that Entatio owns.

    There is one row per remote record (object and external id), not one per
    change: a change made while an older one waits replaces its payload and
    bumps ``version``, so the backlog never holds two versions of a record.
    A row is acknowledged only for the version whose result came back, so a
    change that arrives during a send is sent again.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="crm_outbox"
    )
    sobject = models.CharField(max_length=80)
    external_id = models.CharField(max_length=255)
    rank = models.PositiveSmallIntegerField(
        default=0, help_text="Objects of a lower rank are sent first (lookups)."
    )
    payload = models.JSONField(default=dict)
    digest = models.CharField(max_length=64)
    version = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=10, choices=State, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    salesforce_id = models.CharField(max_length=18, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sobject", "external_id"],
                name="outbox_record_unique",
            )
        ]
        indexes = [models.Index(fields=["organization", "state", "rank"])]

    def __str__(self) -> str:
        return f"{self.sobject} {self.external_id}"


class SyncRun(models.Model):
    """One pass of the connector: what it pulled, pushed and could not push."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        PARTIAL = "partial", "Done with failed rows"
        LIMITED = "limited", "Stopped at a Salesforce limit"
        FAILED = "failed", "Failed"
        INTERRUPTED = "interrupted", "Interrupted"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="crm_runs"
    )
    trigger = models.CharField(max_length=20, default="demand")
    outcome = models.CharField(max_length=12, choices=Outcome, default=Outcome.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["organization", "-started_at"])]


class PullMark(models.Model):
    """How far the pull of one Salesforce object has read: its high-water mark."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="crm_pull_marks"
    )
    sobject = models.CharField(max_length=80)
    high_water = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sobject"], name="pull_mark_unique"
            )
        ]


class SyncState(models.Model):
    """Per organization: who is syncing now, and the schedule's live chain."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="crm_sync_state"
    )
    lease_token = models.CharField(max_length=32, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    chain_token = models.CharField(max_length=32, blank=True, default="")
    next_run_at = models.DateTimeField(null=True, blank=True)
