"""Downloads of the portal's event history, and a member's own data."""

import csv
import io
import json
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from entatio.engagement.exports import (
    VISIT_COLUMNS,
    SlidesOfPresentations,
    export_parquet,
    export_xapi,
    next_visit_rows,
    visit_row_batches,
)
from entatio.engagement.privacy import member_data
from entatio.people.models import Member, Portal
from entatio.web.members import member_page, page_context

EXPORTS = {
    "xapi": ("xAPI statements", "jsonl", "application/x-ndjson"),
    "visits": ("Visits", "csv", "text/csv"),
    "parquet": ("Events and records as Parquet", "zip", "application/zip"),
}


@require_GET
@member_page
def exports(request: HttpRequest, member: Member) -> HttpResponse:
    if not member.can_author:
        raise PermissionDenied("Only authors may export the portal's history.")
    return render(
        request, "web/exports.html", page_context(request, member, exports=EXPORTS)
    )


@require_GET
@member_page
def export_file(
    request: HttpRequest, member: Member, kind: str
) -> FileResponse | StreamingHttpResponse:
    if kind not in EXPORTS:
        raise Http404("No such export")
    if not member.can_author:
        raise PermissionDenied("Only authors may export the portal's history.")
    if kind == "visits":
        return _streamed_visits(request, member)

    # Written to a private temporary folder and streamed from there, so a
    # large portal never sits in memory; the folder goes with the response.
    folder = Path(tempfile.mkdtemp(prefix="entatio-export-"))
    path = _write(kind, member, folder)
    _, _, content_type = EXPORTS[kind]
    response = FileResponse(
        _RemovingFile(path, folder),
        as_attachment=True,
        filename=_file_name(member, kind),
        content_type=content_type,
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _file_name(member: Member, kind: str) -> str:
    stamp = timezone.now().strftime("%Y-%m-%d")
    return f"{member.portal.slug}-{kind}-{stamp}.{EXPORTS[kind][1]}"


def _streamed_visits(request: HttpRequest, member: Member) -> StreamingHttpResponse:
    """The visits CSV, sent a batch of visits at a time as it is read.

    The first bytes leave at once and nothing is kept; under ASGI the rows
    come from an async iterator, which Django stops when the client goes.
    """
    portal = member.portal
    lines = (
        _async_csv_lines(portal)
        if isinstance(request, ASGIRequest)
        else _csv_lines(portal)
    )
    response = StreamingHttpResponse(lines, content_type=EXPORTS["visits"][2])
    response["Content-Disposition"] = (
        f'attachment; filename="{_file_name(member, "visits")}"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _csv_text(rows: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def _csv_lines(portal: Portal) -> Iterator[str]:
    yield _csv_text([VISIT_COLUMNS])
    for rows in visit_row_batches(portal):
        yield _csv_text(rows)


async def _async_csv_lines(portal: Portal) -> AsyncIterator[str]:
    # Each batch is one short query of its own, run in Django's sync thread.
    yield _csv_text([VISIT_COLUMNS])
    slides = SlidesOfPresentations()
    after = None
    read_batch = sync_to_async(next_visit_rows)
    while True:
        rows, after = await read_batch(portal, after, slides)
        if after is None:
            return
        yield _csv_text(rows)


def _write(kind: str, member: Member, folder: Path) -> Path:
    portal = member.portal
    if kind == "xapi":
        export_xapi(folder / "statements.jsonl", portal)
        return folder / "statements.jsonl"
    export_parquet(folder / "parquet", portal)
    return Path(shutil.make_archive(str(folder / "parquet"), "zip", folder / "parquet"))


class _RemovingFile:
    """A file that takes its temporary folder with it when closed."""

    def __init__(self, path: Path, folder: Path) -> None:
        self.file = path.open("rb")
        self.folder = folder
        self.name = str(path)

    def read(self, size: int = -1) -> bytes:
        return self.file.read(size)

    def close(self) -> None:
        self.file.close()
        shutil.rmtree(self.folder, ignore_errors=True)


@require_GET
@member_page
def my_data(request: HttpRequest, member: Member) -> HttpResponse:
    """Everything stored about the signed-in member in this portal."""
    document = json.dumps(member_data(member), indent=2, ensure_ascii=False)
    response = HttpResponse(document, content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="my-data-{member.portal.slug}.json"'
    )
    response["Cache-Control"] = "private, no-store"
    return response
