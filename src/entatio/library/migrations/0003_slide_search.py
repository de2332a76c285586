"""Full-text search of slides: an FTS5 table on SQLite, a GIN index on PostgreSQL.

SQLite: an external-content FTS5 table over the slide table, kept current by
triggers, so every way a slide is saved (ORM, bulk, raw SQL) updates it.
A later migration that makes SQLite rebuild the slide table drops these
triggers with the old table; such a migration must run this one's SQL again
(the search tests fail until it does).

PostgreSQL: a GIN index on the weighted tsvector expression that
entatio.library.search.slide_vector builds; the two must stay identical for
the planner to use the index.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

COLUMNS = "title, description, text, notes"
NEW = "new.title, new.description, new.text, new.notes"
OLD = "old.title, old.description, old.text, old.notes"

SQLITE_FORWARD = [
    f"""CREATE VIRTUAL TABLE library_slide_fts USING fts5(
        {COLUMNS}, content='library_slide', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER library_slide_fts_insert AFTER INSERT ON library_slide BEGIN
        INSERT INTO library_slide_fts(rowid, {COLUMNS}) VALUES (new.id, {NEW});
    END""",
    f"""CREATE TRIGGER library_slide_fts_delete AFTER DELETE ON library_slide BEGIN
        INSERT INTO library_slide_fts(library_slide_fts, rowid, {COLUMNS})
        VALUES ('delete', old.id, {OLD});
    END""",
    f"""CREATE TRIGGER library_slide_fts_update
        AFTER UPDATE OF {COLUMNS} ON library_slide BEGIN
        INSERT INTO library_slide_fts(library_slide_fts, rowid, {COLUMNS})
        VALUES ('delete', old.id, {OLD});
        INSERT INTO library_slide_fts(rowid, {COLUMNS}) VALUES (new.id, {NEW});
    END""",
    "INSERT INTO library_slide_fts(library_slide_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS library_slide_fts_insert",
    "DROP TRIGGER IF EXISTS library_slide_fts_delete",
    "DROP TRIGGER IF EXISTS library_slide_fts_update",
    "DROP TABLE IF EXISTS library_slide_fts",
]
CONFIG = "english"


def search_index() -> GinIndex:
    vector = (
        SearchVector("title", weight="A", config=CONFIG)
        + SearchVector("description", weight="B", config=CONFIG)
        + SearchVector("text", weight="C", config=CONFIG)
        + SearchVector("notes", weight="D", config=CONFIG)
    )
    return GinIndex(vector, name="library_slide_search")


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        schema_editor.add_index(apps.get_model("library", "Slide"), search_index())


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("library", "Slide"), search_index())


class Migration(migrations.Migration):
    dependencies = [("library", "0002_slide_duration_source_title")]

    operations = [migrations.RunPython(forward, backward)]
