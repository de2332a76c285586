"""Data migrations of the library, run on rows made the old way."""

import importlib

from django.apps import apps

from entatio.library.models import Slide

notes_migration = importlib.import_module(
    "entatio.library.migrations.0006_notes_are_not_descriptions"
)


def test_descriptions_copied_from_notes_are_emptied_and_notes_kept(portal):
    copied = Slide.objects.create(
        portal=portal, title="A", notes="Click the demo", description="Click the demo"
    )
    written = Slide.objects.create(
        portal=portal, title="B", notes="Mention Q3", description="What is new in 4.2"
    )
    plain = Slide.objects.create(portal=portal, title="C")

    notes_migration.empty_copied_descriptions(apps, None)

    copied.refresh_from_db()
    written.refresh_from_db()
    plain.refresh_from_db()
    assert (copied.description, copied.notes) == ("", "Click the demo")
    assert (written.description, written.notes) == ("What is new in 4.2", "Mention Q3")
    assert (plain.description, plain.notes) == ("", "")
