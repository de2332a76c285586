"""Presentation changes the library's editing module does not cover yet."""

from entatio.library.editing import EditError
from entatio.library.models import Presentation


def rename_presentation(presentation: Presentation, title: str) -> Presentation:
    title = " ".join(title.split())[:300]
    if not title:
        raise EditError("A presentation needs a title.")
    if title != presentation.title:
        presentation.title = title
        presentation.save(update_fields=["title", "updated_at"])
    return presentation
