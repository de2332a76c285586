"""The Salesforce stand-in and a small course the CRM tests share; no tests here."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from entatio.crm.ids import salesforce_id_18
from entatio.crm.models import Contact, MemberContact
from entatio.engagement.access import share_presentation
from entatio.engagement.models import ActivityRecord
from entatio.library.models import Presentation, PresentationSlide, Slide
from entatio.people.models import Account, Member, Portal, SharingGroup
from tests.personas import make_member
from tests.salesforce_standin import Keys, SalesforceStandIn, make_keys

ADA_CONTACT = salesforce_id_18("003Sx0000000ADA")
GLOBEX_ACCOUNT = salesforce_id_18("001Sx0000000GLX")


@pytest.fixture(scope="session")
def standin_keys(tmp_path_factory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("standin"))


@pytest.fixture
def standin(standin_keys) -> Iterator[SalesforceStandIn]:
    server = SalesforceStandIn(standin_keys).start()
    yield server
    server.stop()


@pytest.fixture
def connected(org, standin, settings) -> SalesforceStandIn:
    """The organization connected to the stand-in by client credentials."""
    settings.ENTATIO_SALESFORCE = {org.slug: standin.config()}
    return standin


def connect(settings, org, standin: SalesforceStandIn, **overrides) -> None:
    settings.ENTATIO_SALESFORCE = {org.slug: standin.config(**overrides)}


@dataclass
class Course:
    presentation: Presentation
    places: list[PresentationSlide]
    member: Member
    other: Member
    account: Account
    contact: Contact


def make_course(
    portal: Portal, group: SharingGroup, title: str, slides: int
) -> Presentation:
    presentation = Presentation.objects.create(portal=portal, title=title)
    for index in range(slides):
        slide = Slide.objects.create(portal=portal, title=f"{title} {index + 1}")
        PresentationSlide.objects.create(
            presentation=presentation, slide=slide, position=index + 1
        )
    # The immediate task backend makes the records on commit.
    share_presentation(presentation, group)
    return presentation


@pytest.fixture
def course(org, portal, member, group, account, standin) -> Course:
    """Three slides shared with Ada (a Salesforce contact) and Bo (not one).

    Ada saw slide 1 twice and slide 2 once; Bo saw nothing. Ada's account
    and contact are in the stand-in's org as well as in Entatio.
    """
    stamp = "2026-01-05T10:00:00.000+0000"
    standin.seed("Account", Id=GLOBEX_ACCOUNT, Name="Globex", SystemModstamp=stamp)
    standin.seed(
        "Contact",
        Id=ADA_CONTACT,
        AccountId=GLOBEX_ACCOUNT,
        Email=member.email,
        FirstName="Ada",
        SystemModstamp=stamp,
    )
    account.crm_id = GLOBEX_ACCOUNT
    account.save()
    contact = Contact.objects.create(
        organization=org,
        crm_id=ADA_CONTACT,
        account=account,
        email=member.email,
        first_name="Ada",
    )
    MemberContact.objects.create(member=member, contact=contact)
    other = make_member(portal, "bo@initech.test", user_type="developer")
    group.members.add(other)

    presentation = make_course(portal, group, "Onboarding", 3)
    places = list(presentation.places.order_by("position"))
    records = ActivityRecord.objects.filter(member=member)
    records.filter(slide=places[0].slide).update(visits=2, self_paced_visits=2)
    records.filter(slide=places[1].slide).update(visits=1, live_visits=1)
    return Course(presentation, places, member, other, account, contact)
