"""Commands on the library: import files, list presentations and slides."""

import argparse
from pathlib import Path
from typing import Any

from django.db.models import Count, Q
from django.db.models.fields.files import FieldFile

from entatio.cli.output import (
    CommandError,
    ProgressBar,
    print_error,
    print_json,
    print_table,
)
from entatio.engagement.models import Share
from entatio.ingest.imports import (
    ImportRefused,
    ProgressCallback,
    ingest_source,
    start_import,
)
from entatio.library.editing import ordered_places
from entatio.library.models import Presentation, PresentationSlide
from entatio.people.defaults import PortalNotFound, find_portal
from entatio.people.models import Portal


def list_presentations(arguments: argparse.Namespace) -> int:
    portal = portal_named(arguments.portal)
    presentations = (
        Presentation.objects.filter(portal=portal)
        .select_related("source")
        .annotate(
            shown=Count("places", filter=Q(places__hidden=False), distinct=True),
            hidden=Count("places", filter=Q(places__hidden=True), distinct=True),
        )
        .order_by("pk")
    )
    groups = _shared_groups([p.pk for p in presentations])
    documents = [presentation_summary(p, groups.get(p.pk, [])) for p in presentations]

    if arguments.json:
        print_json({"portal": portal.slug, "presentations": documents})
        return 0
    if not documents:
        print(f"No presentations in {portal.name} yet; 'entatio import FILE' adds one.")
        return 0
    print_table(
        ["id", "title", "slides", "hidden", "status", "shared with"],
        [
            [
                d["id"],
                d["title"],
                d["slides"],
                d["hidden_slides"],
                d["status"],
                ", ".join(d["shared_with"]),
            ]
            for d in documents
        ],
    )
    return 0


def presentation_summary(
    presentation: Presentation, shared_with: list[str]
) -> dict[str, Any]:
    source = presentation.source
    return {
        "id": presentation.pk,
        "title": presentation.title,
        "slides": presentation.shown,  # type: ignore[attr-defined]
        "hidden_slides": presentation.hidden,  # type: ignore[attr-defined]
        "file": source.original_name if source else None,
        "status": source.status if source else "ready",
        "shared_with": shared_with,
        "created_at": presentation.created_at.isoformat(),
    }


def _shared_groups(presentation_ids: list[int]) -> dict[int, list[str]]:
    groups: dict[int, list[str]] = {}
    shares = (
        Share.objects.filter(
            presentation_id__in=presentation_ids, revoked_at__isnull=True
        )
        .order_by("group__name")
        .values_list("presentation_id", "group__name")
    )
    for presentation_id, name in shares:
        groups.setdefault(presentation_id, []).append(name)
    return groups


def list_slides(arguments: argparse.Namespace) -> int:
    presentation = presentation_by_id(arguments.presentation)
    document = presentation_document(presentation)

    if arguments.json:
        print_json(document)
        return 0
    print(f"{presentation.title} (presentation {presentation.pk})")
    print_table(
        ["#", "id", "kind", "title", "hidden", "image"],
        [
            [
                s["position"],
                s["id"],
                s["kind"],
                s["title"],
                "hidden" if s["hidden"] else "",
                s["image"] or "",
            ]
            for s in document["slides"]
        ],
    )
    return 0


def presentation_document(presentation: Presentation) -> dict[str, Any]:
    """The presentation and its slides in order, hidden ones marked."""
    return {
        "id": presentation.pk,
        "title": presentation.title,
        "portal": presentation.portal.slug,
        "slides": [
            slide_document(number, place)
            for number, place in enumerate(ordered_places(presentation), start=1)
        ],
    }


def slide_document(number: int, place: PresentationSlide) -> dict[str, Any]:
    slide = place.slide
    return {
        "id": slide.pk,
        "position": number,
        "kind": slide.kind,
        "title": slide.title,
        "description": slide.description,
        "text": slide.text,
        "notes": slide.notes,
        "hidden": place.hidden,
        "width": slide.width,
        "height": slide.height,
        "image": file_path(slide.image),
        "thumbnail": file_path(slide.thumbnail),
        "media": file_path(slide.media),
    }


def file_path(stored: FieldFile) -> str | None:
    """Where a stored file is on disk; its URL where the storage is remote."""
    if not stored:
        return None
    try:
        return str(Path(stored.path).resolve())
    except NotImplementedError:
        return stored.url


def presentation_by_id(presentation_id: int) -> Presentation:
    presentation = (
        Presentation.objects.select_related("portal").filter(pk=presentation_id).first()
    )
    if presentation is None:
        raise CommandError(
            f"There is no presentation {presentation_id}; "
            "'entatio presentations' lists them."
        )
    return presentation


def portal_named(name: str | None) -> Portal:
    try:
        return find_portal(name)
    except PortalNotFound as error:
        raise CommandError(str(error)) from error


def import_files(arguments: argparse.Namespace) -> int:
    portal = portal_named(arguments.portal)
    paths = [Path(name) for name in arguments.files]
    for path in paths:
        if path.is_dir():
            raise CommandError(
                f"{path} is a folder; name the files in it, e.g. {path}/*.pptx, "
                "or zip them to import them as one presentation."
            )
        if not path.is_file():
            raise CommandError(f"There is no file {path}; check the name and path.")
    if arguments.title and len(paths) > 1:
        raise CommandError(
            "--title names one presentation; import one file at a time to give "
            "each its title."
        )

    imported, refused = [], []
    for path in paths:
        progress = ProgressBar(f"Importing {path.name}")
        try:
            presentation = import_file(
                portal, path, arguments.title, arguments.password, progress.update
            )
        except ImportRefused as refusal:
            refused.append(_refusal(path, refusal))
            continue
        finally:
            progress.finish()
        imported.append(presentation_document(presentation))

    _report_imports(arguments.json, imported, refused)
    return 2 if refused else 0


def import_file(
    portal: Portal,
    path: Path,
    title: str | None = None,
    password: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> Presentation:
    """Import one file into the portal and wait until its slides are made.

    The import is also queued for the worker; whichever starts first makes the
    slides, and the other waits for them or skips it.
    """
    source = start_import(
        portal, path, path.name, title=title or "", password=password or ""
    )
    return ingest_source(source, on_progress=on_progress)


def _refusal(path: Path, refusal: ImportRefused) -> dict[str, Any]:
    message = str(refusal)
    if refusal.needs_password:
        message += " On the command line, give it with --password."
    return {
        "file": str(path),
        "reason": message,
        "needs_password": refusal.needs_password,
    }


def _report_imports(
    as_json: bool, imported: list[dict[str, Any]], refused: list[dict[str, Any]]
) -> None:
    if as_json:
        print_json({"presentations": imported, "refused": refused})
    else:
        for document in imported:
            hidden = sum(1 for s in document["slides"] if s["hidden"])
            print(
                f"Presentation {document['id']}: {document['title']!r}, "
                f"{len(document['slides'])} slides"
                + (f" ({hidden} hidden)" if hidden else "")
            )
    for refusal in refused:
        print_error(refusal["reason"])
