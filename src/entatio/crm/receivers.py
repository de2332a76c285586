"""What the CRM side does when people change elsewhere."""

from django.dispatch import receiver

from entatio.crm.models import MemberContact
from entatio.people.models import Member
from entatio.people.signals import member_erased


@receiver(member_erased)
def forget_contact_of_erased_member(sender: object, member: Member, **_: object):
    # The contact belongs to the CRM and stays; the link to the person goes.
    MemberContact.objects.filter(member=member).delete()
