"""The search page: who finds what, and how results are shown."""

import pytest
from django.urls import reverse

from tests.test_web_access import EVERY_MEMBER, Case, outcome
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import slides_of

ASKING_ORDER = ("anonymous", "stranger", "outsider", "member", "author", "owner")


@pytest.fixture
def words(deck, secret):
    first = slides_of(deck)[0]
    first.notes = "Tag releases with semantic versions."
    first.save()
    hidden = slides_of(deck)[3]
    hidden.text = "Semantic versioning, hidden draft."
    hidden.save()
    roadmap = slides_of(secret)[0]
    roadmap.description = "Semantic release next quarter."
    roadmap.save()
    return {"first": first, "hidden": hidden, "roadmap": roadmap}


def found(client, query: str) -> list[str]:
    response = client.get(reverse("search"), {"q": query})
    assert response.status_code == 200
    return [hit.slide.title for hit in response.context["hits"]]


def test_permission_matrix(words, client_of, personas):
    case = Case("get", lambda ctx: reverse("search") + "?q=semantic", EVERY_MEMBER)
    got = {p: outcome(case, client_of(p), None) for p in ASKING_ORDER}
    assert got == {p: EVERY_MEMBER[p] for p in ASKING_ORDER}


def test_each_persona_finds_only_what_they_may_see(words, client_of):
    assert found(client_of("member"), "semantic") == ["Versioning 1"]
    assert sorted(found(client_of("author"), "semantic")) == [
        "Roadmap 1",
        "Versioning 1",
        "Versioning 4",
    ]
    assert found(client_of("outsider"), "semantic") == []
    assert found(client_of("stranger"), "semantic") == []


def test_results_show_thumbnails_and_presentations(words, client_of, deck):
    response = client_of("member").get(reverse("search"), {"q": "semantic"})
    html = response.content.decode()

    thumb = reverse("slide_thumbnail", args=[words["first"].pk])
    assert f'<img src="{thumb}"' in html
    assert f'href="{reverse("viewer", args=[deck.pk])}">Versioning</a>' in html
    assert "Roadmap" not in html


def test_no_match_says_so_and_an_empty_query_lists_nothing(words, client_of):
    client = client_of("member")
    response = client.get(reverse("search"), {"q": "zebra"})
    assert "No slide matches “zebra”" in response.content.decode()
    assert found(client, "") == []


def test_the_navigation_links_to_search(words, client_of):
    html = client_of("member").get(reverse("library")).content.decode()
    assert f'href="{reverse("search")}"' in html


def test_the_query_count_does_not_grow_with_the_hits(words, client_of, deck):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_of("author")
    client.get(reverse("search"), {"q": "versioning"})  # the portal is picked

    def queries(query: str) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("search"), {"q": query})
        return len(response.context["hits"]), len(captured)

    one_hit, few = queries("tag")
    many_hits, more = queries("versioning")
    assert (one_hit, many_hits) == (1, 4)
    assert few == more
