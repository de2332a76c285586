"""Speaker notes were copied into the description the audience reads; undo that.

Imports used to fill a slide's description with its speaker notes, which
showed presenters' instructions to the audience. A description still equal
to the notes was never written by an author, so it is emptied; the notes stay.
"""

from django.db import migrations
from django.db.models import F


def empty_copied_descriptions(apps, schema_editor):
    slide = apps.get_model("library", "Slide")
    slide.objects.exclude(notes="").filter(description=F("notes")).update(
        description=""
    )


class Migration(migrations.Migration):
    dependencies = [("library", "0005_search_folds_accents")]

    operations = [
        migrations.RunPython(empty_copied_descriptions, migrations.RunPython.noop)
    ]
