"""Background work of ingest."""

import logging

from django_tasks import task

from entatio.ingest.imports import ImportRefused, claim, ingest_claimed_source
from entatio.library.models import Source

logger = logging.getLogger(__name__)


@task()
def ingest_source_task(source_id: int) -> dict:
    """Make the slides of one source, unless someone else already is."""
    source = Source.objects.filter(pk=source_id).first()
    if source is None or not claim(source):
        # Deleted, or made (or being made) by another run, such as the
        # command line's: nothing to do, and nothing to wait for.
        return {"source_id": source_id, "skipped": True}

    try:
        presentation = ingest_claimed_source(source, None)
    except ImportRefused:
        # The source is marked failed with the reason the uploader sees;
        # the worker goes on with the next task.
        return {"source_id": source_id, "status": source.status}
    return {
        "source_id": source_id,
        "status": source.status,
        "presentation_id": presentation.pk,
    }
