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
