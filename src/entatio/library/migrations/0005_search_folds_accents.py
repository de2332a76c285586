"""PostgreSQL search folds accents, as SQLite's FTS5 tokenizer already does.

A text search configuration of our own copies ``english`` and runs every
word through ``unaccent`` before stemming, so "resume", "résumé" and
"RÉSUMÉ" find one another. The GIN index is made again on the expression
that ``entatio.library.search.slide_vector`` now builds with it.

``unaccent`` ships with PostgreSQL and is a trusted extension (13 and later),
so the database's owner may create it without being a superuser.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

OLD_CONFIG = "english"
NEW_CONFIG = "entatio_english"
INDEX = "library_slide_search"

MAKE_CONFIG = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    f"CREATE TEXT SEARCH CONFIGURATION {NEW_CONFIG} (COPY = {OLD_CONFIG})",
    f"""ALTER TEXT SEARCH CONFIGURATION {NEW_CONFIG}
        ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem""",
]
DROP_CONFIG = [f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {NEW_CONFIG}"]


def search_index(config: str) -> GinIndex:
    vector = (
        SearchVector("title", weight="A", config=config)
        + SearchVector("description", weight="B", config=config)
        + SearchVector("text", weight="C", config=config)
        + SearchVector("notes", weight="D", config=config)
    )
    return GinIndex(vector, name=INDEX)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    slide = apps.get_model("library", "Slide")
    for statement in MAKE_CONFIG:
        schema_editor.execute(statement)
    schema_editor.remove_index(slide, search_index(OLD_CONFIG))
    schema_editor.add_index(slide, search_index(NEW_CONFIG))


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    slide = apps.get_model("library", "Slide")
    schema_editor.remove_index(slide, search_index(NEW_CONFIG))
    schema_editor.add_index(slide, search_index(OLD_CONFIG))
    for statement in DROP_CONFIG:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("library", "0004_presentation_downloadable")]

    operations = [migrations.RunPython(forward, backward)]
