"""Decks, files and signed-in clients the web tests share; no tests here."""

import io
import uuid
from collections.abc import Callable
from datetime import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from entatio.engagement.access import share_presentation
from entatio.library.models import Presentation, PresentationSlide, Slide, Source
from entatio.people.models import Member, Portal, SharingGroup

PERSONAS = ("owner", "author", "member", "outsider", "stranger", "anonymous")


def png_bytes(colour: str, size: tuple[int, int] = (64, 36)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def stored(name: str, content: bytes) -> str:
    return default_storage.save(name, ContentFile(content))


def make_deck(
    portal: Portal, title: str, colours: list[str], hidden: set[int] = frozenset()
) -> Presentation:
    """A presentation from one source, slides numbered from 1 in the titles."""
    source = Source.objects.create(
        portal=portal,
        original_name=f"{title}.pdf",
        content_hash=uuid.uuid4().hex,
        status=Source.Status.READY,
        progress_done=len(colours),
        progress_total=len(colours),
    )
    presentation = Presentation.objects.create(
        portal=portal, title=title, source=source
    )
    for index, colour in enumerate(colours):
        slide = Slide.objects.create(
            portal=portal,
            source=source,
            index_in_source=index,
            title=f"{title} {index + 1}",
            description=f"About {colour}",
            image=stored(f"slides/{title}-{index}.png", png_bytes(colour, (160, 90))),
            thumbnail=stored(f"thumbs/{title}-{index}.png", png_bytes(colour)),
            width=160,
            height=90,
        )
        PresentationSlide.objects.create(
            presentation=presentation,
            slide=slide,
            position=index,
            hidden=index + 1 in hidden,
        )
    return presentation


@pytest.fixture
def deck(portal, group) -> Presentation:
    """Four slides shared with the member's group; slide 4 hidden."""
    presentation = make_deck(
        portal, "Versioning", ["red", "green", "blue", "gray"], hidden={4}
    )
    share_presentation(presentation, group)
    return presentation


@pytest.fixture
def secret(portal) -> Presentation:
    """A presentation of the same portal shared with nobody."""
    return make_deck(portal, "Roadmap", ["black", "white"])


@pytest.fixture
def personas(owner, author, member, outsider, stranger) -> dict[str, Member | None]:
    return {
        "owner": owner,
        "author": author,
        "member": member,
        "outsider": outsider,
        "stranger": stranger,
        "anonymous": None,
    }


@pytest.fixture
def client_of(personas) -> Callable[[str], Client]:
    """A client signed in as the persona, or anonymous."""

    def make(persona: str) -> Client:
        client = Client()
        someone = personas[persona]
        if someone is not None:
            client.force_login(someone.user)
        return client

    return make


def slides_of(presentation: Presentation) -> list[Slide]:
    return [
        place.slide
        for place in presentation.places.select_related("slide").order_by("position")
    ]


def viewed(
    slide: Slide, presentation: Presentation, at: datetime, ms: int, visit: str
) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "slide": slide.pk,
        "presentation": presentation.pk,
        "verb": "viewed",
        "at": at.isoformat(),
        "duration_ms": ms,
        "visit": visit,
    }


def second_group(portal: Portal, *members: Member) -> SharingGroup:
    group = SharingGroup.objects.create(portal=portal, name="Second wave")
    group.members.add(*members)
    return group
