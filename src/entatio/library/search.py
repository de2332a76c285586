"""Full-text search over slides: title, description, text and notes.

SQLite keeps an FTS5 table in step with the slides by triggers; PostgreSQL
searches a weighted ``tsvector`` of the same fields through a GIN index on
that very expression (made in migrations 0003 and 0005, which must change with
``slide_vector`` below). Both rank a match in the title above one in the
notes, and both treat every word typed as a required prefix, so results
narrow as a person types.

Callers pass the slides that may be found (the engagement app knows who may
see what); this module never widens that set.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import CombinedExpression

from entatio.library.models import Slide

MAX_RESULTS = 50
MAX_WORDS = 12
# Made in migration 0005: english with accents folded, as FTS5 folds them.
SEARCH_CONFIG = "entatio_english"
FTS_TABLE = "library_slide_fts"
# bm25 weights of title, description, text and notes, as A-D in PostgreSQL.
FTS_WEIGHTS = (10.0, 4.0, 2.0, 1.0)
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Found:
    slide: Slide
    rank: float


def search_words(query: str) -> list[str]:
    """The words of what was typed; operators and quotes are not syntax here."""
    return [w.lower() for w in WORD.findall(query)][:MAX_WORDS]


def search_slides(
    query: str, within: QuerySet[Slide], limit: int = MAX_RESULTS
) -> list[Found]:
    """The slides of ``within`` that match every word, best first."""
    words = search_words(query)
    if not words:
        return []
    if connection.vendor == "sqlite":
        return sqlite_search(words, within, limit)
    if connection.vendor == "postgresql":
        return postgres_search(words, within, limit)
    return plain_search(words, within, limit)


def slide_vector() -> CombinedExpression:
    """The weighted document of a slide; the GIN index is on this expression."""
    return (
        SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector("description", weight="B", config=SEARCH_CONFIG)
        + SearchVector("text", weight="C", config=SEARCH_CONFIG)
        + SearchVector("notes", weight="D", config=SEARCH_CONFIG)
    )


def postgres_search(
    words: list[str], within: QuerySet[Slide], limit: int
) -> list[Found]:
    # Words are \w+ only, so the raw form cannot carry tsquery operators.
    query = SearchQuery(
        " & ".join(f"{word}:*" for word in words),
        search_type="raw",
        config=SEARCH_CONFIG,
    )
    slides = (
        within.alias(document=slide_vector())
        .filter(document=query)
        .annotate(rank=SearchRank(F("document"), query))
        .order_by("-rank", "pk")[:limit]
    )
    return [Found(slide, float(slide.rank)) for slide in slides]


def sqlite_search(words: list[str], within: QuerySet[Slide], limit: int) -> list[Found]:
    match = " ".join('"{}"*'.format(word.replace('"', "")) for word in words)
    scope_sql, scope_params = within.values("pk").query.sql_with_params()
    weights = ", ".join(str(w) for w in FTS_WEIGHTS)
    sql = (
        f"SELECT rowid, bm25({FTS_TABLE}, {weights}) AS score FROM {FTS_TABLE}"
        f" WHERE {FTS_TABLE} MATCH %s AND rowid IN ({scope_sql})"
        " ORDER BY score, rowid LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [match, *scope_params, limit])
        scores = {pk: -score for pk, score in cursor.fetchall()}

    slides = Slide.objects.in_bulk(list(scores))
    ranked = sorted(scores, key=lambda pk: (-scores[pk], pk))
    return [Found(slides[pk], scores[pk]) for pk in ranked if pk in slides]


def plain_search(words: list[str], within: QuerySet[Slide], limit: int) -> list[Found]:
    """For databases without full text: every word somewhere, unranked."""
    slides = within
    for word in words:
        slides = slides.filter(
            Q(title__icontains=word)
            | Q(description__icontains=word)
            | Q(text__icontains=word)
            | Q(notes__icontains=word)
        )
    return [Found(slide, 0.0) for slide in slides.order_by("pk")[:limit]]
