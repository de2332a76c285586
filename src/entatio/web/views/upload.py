"""Uploading files to import, and following each import to its slides."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from entatio.ingest.imports import ImportRefused, start_import
from entatio.library.models import Source
from entatio.people.models import Member
from entatio.web.access import source_for
from entatio.web.forms import UploadForm, first_error
from entatio.web.members import (
    member_endpoint,
    member_page,
    page_context,
    require_author,
)


@require_GET
@member_page
def upload(request: HttpRequest, member: Member) -> HttpResponse:
    require_author(member)
    limit = settings.ENTATIO["MAX_UPLOAD_BYTES"]
    return render(
        request, "web/upload.html", page_context(request, member, max_bytes=limit)
    )


@require_POST
@member_endpoint
def upload_file(request: HttpRequest, member: Member) -> HttpResponse:
    """One file of an upload; the page sends each file on its own request."""
    require_author(member)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"error": first_error(form)}, status=400)

    uploaded = form.cleaned_data["file"]
    try:
        source = start_import(
            member.portal,
            uploaded,
            uploaded.name,
            uploaded_by=member,
            title=form.cleaned_data["title"],
            password=form.cleaned_data["password"],
        )
    except ImportRefused as refusal:
        return JsonResponse(
            {"error": str(refusal), "needs_password": refusal.needs_password},
            status=400,
        )

    source.refresh_from_db()
    return JsonResponse(import_status(source), status=201)


@require_GET
@member_endpoint
def source_status(request: HttpRequest, member: Member, source_id: int) -> HttpResponse:
    source = source_for(member, source_id)
    response = JsonResponse(import_status(source))
    response["Cache-Control"] = "no-store"
    return response


def import_status(source: Source) -> dict[str, Any]:
    """Where an import stands, with the presentation's pages once it is ready."""
    presentation = source.presentations.order_by("pk").first()
    status: dict[str, Any] = {
        "id": source.pk,
        "name": source.original_name,
        "status": source.status,
        "status_label": source.get_status_display(),
        "progress_done": source.progress_done,
        "progress_total": source.progress_total,
        "error": source.error,
        "status_url": reverse("source_status", args=[source.pk]),
        "presentation": None,
    }
    if presentation is not None:
        status["presentation"] = {
            "id": presentation.pk,
            "title": presentation.title,
            "editor_url": reverse("editor", args=[presentation.pk]),
            "viewer_url": reverse("viewer", args=[presentation.pk]),
        }
    return status
