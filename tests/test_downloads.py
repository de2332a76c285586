"""Downloads: the original file and a PDF of the slides, access-checked, events."""

import io

import pypdfium2 as pdfium
import pytest
from django.urls import reverse

from entatio.engagement.models import ActivityRecord, Event
from entatio.library.assembly import create_text_card
from entatio.library.models import Presentation
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import stored

ORIGINAL = b"%PDF-1.4\n% the deck as it was uploaded\n" + bytes(range(256)) * 40


@pytest.fixture
def original(deck) -> bytes:
    source = deck.source
    source.file = stored("sources/Versioning.pdf", ORIGINAL)
    source.original_name = "Versioning 2.0.pdf"
    source.save(update_fields=["file", "original_name"])
    return ORIGINAL


def downloadable(deck: Presentation, value: bool = True) -> None:
    Presentation.objects.filter(pk=deck.pk).update(downloadable=value)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def record_values() -> list[tuple]:
    return sorted(
        ActivityRecord.objects.values_list(
            "member_id", "slide_id", "visits", "dwell_ms"
        )
    )


def test_the_original_comes_back_byte_for_byte_as_an_attachment(
    deck, original, member, client_of
):
    downloadable(deck)
    records_before = record_values()

    response = client_of("member").get(reverse("download_original", args=[deck.pk]))

    assert response.status_code == 200
    assert body_of(response) == ORIGINAL
    assert response["Content-Disposition"] == (
        'attachment; filename="Versioning 2.0.pdf"'
    )
    assert response["Cache-Control"] == "private, no-store"
    event = Event.objects.get()
    assert (event.verb, event.member, event.slide, event.presentation) == (
        "downloaded",
        member,
        None,
        deck,
    )
    assert event.statement["format"] == "original"
    assert event.statement["id"] == str(event.id)
    assert record_values() == records_before


def test_the_pdf_has_one_page_per_shown_slide(deck, member, client_of):
    downloadable(deck)

    response = client_of("member").get(reverse("download_pdf", args=[deck.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="versioning.pdf"'
    document = pdfium.PdfDocument(io.BytesIO(body_of(response)))
    # Four slides, the fourth hidden: three pages, each the slide's size.
    assert len(document) == 3
    assert [document[i].get_size() for i in range(3)] == [(160.0, 90.0)] * 3
    event = Event.objects.get()
    assert (event.verb, event.member, event.statement["format"]) == (
        "downloaded",
        member,
        "pdf",
    )


def test_a_text_card_becomes_a_page_with_its_words(deck, author, client_of):
    create_text_card(deck, "Summary", "Ship **2.0** on Monday")

    response = client_of("author").get(reverse("download_pdf", args=[deck.pk]))

    document = pdfium.PdfDocument(io.BytesIO(body_of(response)))
    assert len(document) == 4
    assert document[3].get_size() == (1280.0, 720.0)
    # The words are drawn, so the page is not blank.
    bitmap = document[3].render(scale=0.25).to_pil().convert("L")
    assert bitmap.getextrema()[0] < 128


def test_members_get_404_until_an_author_allows_downloads(
    deck, original, member, client_of
):
    client = client_of("member")
    urls = [reverse(n, args=[deck.pk]) for n in ("download_original", "download_pdf")]

    assert [client.get(url).status_code for url in urls] == [404, 404]
    assert Event.objects.count() == 0

    toggle = client_of("author").post(
        reverse("set_downloadable", args=[deck.pk]), {"downloadable": "on"}
    )
    assert toggle.status_code == 302
    assert [client.get(url).status_code for url in urls] == [200, 200]

    client_of("author").post(reverse("set_downloadable", args=[deck.pk]), {})
    deck.refresh_from_db()
    assert deck.downloadable is False
    assert [client.get(url).status_code for url in urls] == [404, 404]
    assert Event.objects.filter(verb="downloaded").count() == 2


def test_authors_always_download(deck, original, client_of):
    response = client_of("owner").get(reverse("download_original", args=[deck.pk]))

    assert response.status_code == 200
    assert body_of(response) == ORIGINAL


def test_a_member_cannot_allow_downloads(deck, member, client_of):
    response = client_of("member").post(
        reverse("set_downloadable", args=[deck.pk]), {"downloadable": "on"}
    )

    assert response.status_code == 403
    deck.refresh_from_db()
    assert deck.downloadable is False


def test_without_an_original_file_there_is_nothing_to_download(deck, client_of):
    response = client_of("owner").get(reverse("download_original", args=[deck.pk]))

    assert response.status_code == 404
    assert Event.objects.count() == 0


def test_the_viewer_offers_downloads_only_where_they_work(
    deck, original, member, client_of
):
    viewer = reverse("viewer", args=[deck.pk])

    html = client_of("member").get(viewer).content.decode()
    assert 'id="download-pdf"' not in html
    assert 'id="download-original"' not in html

    downloadable(deck)
    html = client_of("member").get(viewer).content.decode()
    assert f'href="{reverse("download_pdf", args=[deck.pk])}"' in html
    assert f'href="{reverse("download_original", args=[deck.pk])}"' in html

    downloadable(deck, False)
    html = client_of("author").get(viewer).content.decode()
    assert 'id="download-pdf"' in html


def test_the_sharing_page_shows_the_toggle(deck, client_of):
    downloadable(deck)

    html = client_of("author").get(reverse("share", args=[deck.pk])).content.decode()

    assert f'action="{reverse("set_downloadable", args=[deck.pk])}"' in html
    assert 'name="downloadable" checked' in html
