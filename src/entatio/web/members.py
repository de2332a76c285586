"""The member behind a request: the signed-in user in the portal picked.

A person can belong to several portals with one login; the portal they are
working in is kept in the session and every view goes through
``member_in_portal``, so a portal they do not belong to is a 404.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from entatio.people.access import member_in_portal, memberships_of
from entatio.people.models import Member

PORTAL_SESSION_KEY = "entatio_portal"

P = ParamSpec("P")
MemberView = Callable[Concatenate[HttpRequest, Member, P], HttpResponseBase]
View = Callable[Concatenate[HttpRequest, P], HttpResponseBase]


class NotInAnyPortal(Http404):
    """A signed-in user who belongs to no portal at all."""


def current_member(request: HttpRequest) -> Member:
    """The user's member in the session's portal, else in their first portal."""
    portal_id = request.session.get(PORTAL_SESSION_KEY)
    if portal_id is not None:
        try:
            return member_in_portal(request.user, portal_id)
        except Http404:
            # The membership may have ended since the portal was picked.
            del request.session[PORTAL_SESSION_KEY]

    memberships = memberships_of(request.user)
    if not memberships:
        raise NotInAnyPortal("You are not a member of any portal.")
    return choose_portal(request, memberships[0].portal_id)


def choose_portal(request: HttpRequest, portal_id: int) -> Member:
    member = member_in_portal(request.user, portal_id)
    request.session[PORTAL_SESSION_KEY] = member.portal_id
    return member


def member_page(view: MemberView[P]) -> View[P]:
    """A page for signed-in members; anonymous visitors go to the login page."""

    @login_required
    @wraps(view)
    def page(
        request: HttpRequest, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponseBase:
        try:
            member = current_member(request)
        except NotInAnyPortal:
            return render(request, "web/no_portal.html", status=404)
        return view(request, member, *args, **kwargs)

    return page


def member_endpoint(view: MemberView[P]) -> View[P]:
    """A JSON endpoint for scripts: anonymous callers get 401, not a redirect."""

    @wraps(view)
    def endpoint(
        request: HttpRequest, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return JsonResponse({"error": "Sign in again to continue."}, status=401)
        return view(request, current_member(request), *args, **kwargs)

    return endpoint


def require_author(member: Member) -> None:
    if not member.can_author:
        raise PermissionDenied("Only authors of this portal may do this.")


def page_context(
    request: HttpRequest, member: Member, **context: Any
) -> dict[str, Any]:
    """What every page's frame needs: who is signed in, where, and where else."""
    portals = [m.portal for m in memberships_of(request.user)]
    return {"member": member, "portals": portals, **context}
