"""The sync page: the Salesforce connection of the organization, for authors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from entatio.crm.config import salesforce_config
from entatio.crm.outbox import retry_failed
from entatio.crm.sync import sync_overview
from entatio.crm.tasks import request_sync
from entatio.people.access import member_in_portal, memberships_of
from entatio.people.models import Member


def author_in_portal(request: HttpRequest, portal_id: int) -> Member:
    """The user's member in the portal if they author there: 404 or 403 else."""
    member = member_in_portal(request.user, portal_id)
    if not member.can_author:
        raise PermissionDenied("Only owners and authors see the CRM sync.")
    return member


@require_GET
@login_required
def sync_page(request: HttpRequest, portal_id: int) -> HttpResponse:
    member = author_in_portal(request, portal_id)
    overview = sync_overview(member.portal.organization)
    return render(
        request,
        "crm/sync.html",
        {
            "member": member,
            "portals": [m.portal for m in memberships_of(request.user)],
            "overview": overview,
        },
    )


@require_POST
@login_required
def sync_now(request: HttpRequest, portal_id: int) -> HttpResponse:
    member = author_in_portal(request, portal_id)
    organization = member.portal.organization
    if salesforce_config(organization) is None:
        messages.error(request, "There is no Salesforce connection to sync with.")
    else:
        request_sync(organization)
        messages.success(request, "A sync has been asked for; this page shows it.")
    return redirect("crm_sync", portal_id=member.portal_id)


@require_POST
@login_required
def retry_failed_rows(request: HttpRequest, portal_id: int) -> HttpResponse:
    member = author_in_portal(request, portal_id)
    rows = retry_failed(member.portal.organization)
    messages.success(request, f"{rows} failed rows go again with the next sync.")
    return redirect("crm_sync", portal_id=member.portal_id)
