"""Full-text search of slides on SQLite (FTS5) and PostgreSQL (tsvector)."""

import pytest
from django.db import connection

from entatio.engagement.access import visible_slides
from entatio.library.models import Slide
from entatio.library.search import search_slides, search_words
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import make_deck, slides_of


def found_titles(query: str, within) -> list[str]:
    return [f.slide.title for f in search_slides(query, within)]


@pytest.fixture
def texts(deck, secret):
    """Words placed in each field, so ranking and access can be told apart."""
    red, green, blue, gray = slides_of(deck)
    red.notes = "Remember the merge queue."
    green.text = "Merge requests need two reviews. Merge early."
    blue.title = "Merge strategies"
    gray.description = "Hidden merge details"
    for slide in (red, green, blue, gray):
        slide.save()
    roadmap = slides_of(secret)[0]
    roadmap.text = "Merge trains arrive next year."
    roadmap.save()
    return {"red": red, "green": green, "blue": blue, "gray": gray, "secret": roadmap}


def test_a_title_match_ranks_above_text_and_notes(texts, author):
    hits = search_slides("merge", visible_slides(author))

    titles = [h.slide.title for h in hits]
    assert titles[0] == "Merge strategies"
    assert titles[-1] == "Versioning 1"  # only in the notes
    assert set(titles) == {
        "Merge strategies",
        "Versioning 2",
        "Versioning 4",
        "Roadmap 1",
        "Versioning 1",
    }
    ranks = [h.rank for h in hits]
    assert ranks == sorted(ranks, reverse=True)
    assert ranks[0] > ranks[-1]


def test_a_member_finds_only_what_is_shown_to_them(texts, member):
    titles = found_titles("merge", visible_slides(member))

    # Not the hidden slide 4, not the unshared roadmap.
    assert sorted(titles) == ["Merge strategies", "Versioning 1", "Versioning 2"]


def test_an_outsider_and_a_stranger_find_nothing(texts, outsider, stranger):
    assert found_titles("merge", visible_slides(outsider)) == []
    assert found_titles("merge", visible_slides(stranger)) == []


def test_a_stranger_finds_their_own_portal_only(texts, other_portal, stranger):
    make_deck(other_portal, "Merge playbook", ["red"])

    assert found_titles("merge", visible_slides(stranger)) == ["Merge playbook 1"]


def test_every_word_is_a_prefix_and_all_are_required(texts, author):
    within = visible_slides(author)

    assert found_titles("strat", within) == ["Merge strategies"]
    assert found_titles("merge strat", within) == ["Merge strategies"]
    assert found_titles("merge nonexistentword", within) == []
    assert "Versioning 2" in found_titles("reviews", within)
    # Stemming: "review" finds "reviews".
    assert "Versioning 2" in found_titles("review", within)


def test_the_index_follows_saves_updates_and_deletes(texts, author):
    within = visible_slides(author)
    card = Slide.objects.create(
        portal=texts["red"].portal, kind=Slide.Kind.TEXT, title="Glossary"
    )
    assert found_titles("glossary", within) == ["Glossary"]

    card.text = "Terms: rebase, cherry-pick."
    card.title = "Words"
    card.save()
    assert found_titles("glossary", within) == []
    assert found_titles("rebase", within) == ["Words"]

    Slide.objects.filter(pk=card.pk).update(notes="Bulk written quokka")
    assert found_titles("quokka", within) == ["Words"]

    card.delete()
    assert found_titles("rebase", within) == []


@pytest.mark.parametrize(
    "query",
    ['"', "merge OR", "NOT merge", "merge*", "-merge", "(merge", "title:merge", "'"],
)
def test_search_syntax_typed_by_a_person_is_only_words(texts, author, query):
    titles = found_titles(query, visible_slides(author))
    words = search_words(query)
    if words == ["merge"]:
        assert "Merge strategies" in titles
    else:
        assert isinstance(titles, list)


def test_nothing_typed_finds_nothing(texts, author):
    assert found_titles("  ", visible_slides(author)) == []
    assert found_titles("!?", visible_slides(author)) == []


def test_case_does_not_matter(deck, author):
    slide = slides_of(deck)[0]
    slide.title = "Café Résumé"
    slide.save()

    assert found_titles("CAFÉ", visible_slides(author)) == ["Café Résumé"]
    assert found_titles("résumé", visible_slides(author)) == ["Café Résumé"]


def test_accents_do_not_matter_either_way(deck, author):
    accented, plain = slides_of(deck)[:2]
    accented.title = "Café Résumé"
    accented.save()
    plain.title = "Naive cafe"
    plain.save()

    assert found_titles("cafe resume", visible_slides(author)) == ["Café Résumé"]
    assert found_titles("naïve café", visible_slides(author)) == ["Naive cafe"]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the GIN index is PostgreSQL's"
)
def test_postgres_uses_the_gin_index(texts, author):
    from django.contrib.postgres.search import SearchQuery

    from entatio.library.search import SEARCH_CONFIG, slide_vector

    query = SearchQuery("merge:*", search_type="raw", config=SEARCH_CONFIG)
    slides = Slide.objects.alias(document=slide_vector()).filter(document=query)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = slides.explain()
        cursor.execute("SET enable_seqscan = on")

    assert "library_slide_search" in plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="FTS5 is SQLite's")
def test_sqlite_keeps_an_fts5_table(texts):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM library_slide_fts WHERE library_slide_fts MATCH %s",
            ['"merge"'],
        )
        assert cursor.fetchone()[0] == 5
