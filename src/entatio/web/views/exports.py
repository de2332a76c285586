"""Downloads of the portal's event history, and a member's own data."""

import json
import shutil
import tempfile
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from entatio.engagement.exports import export_parquet, export_visits_csv, export_xapi
from entatio.engagement.privacy import member_data
from entatio.people.models import Member
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
def export_file(request: HttpRequest, member: Member, kind: str) -> FileResponse:
    if kind not in EXPORTS:
        raise Http404("No such export")
    if not member.can_author:
        raise PermissionDenied("Only authors may export the portal's history.")

    # Written to a private temporary folder and streamed from there, so a
    # large portal never sits in memory; the folder goes with the response.
    folder = Path(tempfile.mkdtemp(prefix="entatio-export-"))
    path = _write(kind, member, folder)
    _, extension, content_type = EXPORTS[kind]
    stamp = timezone.now().strftime("%Y-%m-%d")
    response = FileResponse(
        _RemovingFile(path, folder),
        as_attachment=True,
        filename=f"{member.portal.slug}-{kind}-{stamp}.{extension}",
        content_type=content_type,
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _write(kind: str, member: Member, folder: Path) -> Path:
    portal = member.portal
    if kind == "xapi":
        export_xapi(folder / "statements.jsonl", portal)
        return folder / "statements.jsonl"
    if kind == "visits":
        export_visits_csv(folder / "visits.csv", portal)
        return folder / "visits.csv"
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
