"""Pages of live sessions: start one, present it, attend it."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from entatio.engagement.access import visible_presentations
from entatio.library.models import Presentation
from entatio.live import news, sessions
from entatio.live.access import presentation_to_present, session_for, session_to_present
from entatio.live.models import LiveSession
from entatio.live.state import audience_state, presenter_state
from entatio.people.access import memberships_of
from entatio.people.models import Member

ENDED = "This live session has ended."


@require_http_methods(["GET", "POST"])
@login_required
def start(request: HttpRequest, presentation_id: int) -> HttpResponse:
    """The choice of mode (GET), and starting the session with it (POST)."""
    member, presentation = presentation_to_present(request.user, presentation_id)
    if request.method == "POST":
        mode = request.POST.get("mode", LiveSession.Mode.VIRTUAL)
        if mode not in LiveSession.Mode.values:
            mode = LiveSession.Mode.VIRTUAL
        session = sessions.start_session(member, presentation, mode)
        return redirect("live_present", session.code)

    running = sessions.sessions_on(Presentation.objects.filter(pk=presentation.pk))
    return render(
        request,
        "live/start.html",
        page(
            request,
            member,
            presentation=presentation,
            modes=LiveSession.Mode.choices,
            running=running,
        ),
    )


@require_GET
@login_required
def present(request: HttpRequest, code: str) -> HttpResponse:
    member, session = session_to_present(request.user, code)
    may_check_in = sessions.may_attend(session).order_by("email")
    return render(
        request,
        "live/present.html",
        page(
            request,
            member,
            session=session,
            presentation=session.presentation,
            join_url=request.build_absolute_uri(reverse("live_attend", args=[code])),
            may_check_in=may_check_in,
            live_config={
                "socket": f"/ws/live/{code}/present/",
                "moveUrl": reverse("live_move", args=[code]),
                "state": presenter_state(session),
            },
        ),
    )


@require_GET
@login_required
def attend(request: HttpRequest, code: str) -> HttpResponse:
    member, session = session_for(request.user, code)
    return render(
        request,
        "live/attend.html",
        page(
            request,
            member,
            session=session,
            presentation=session.presentation,
            live_config={
                "socket": f"/ws/live/{code}/",
                "state": audience_state(session),
            },
        ),
    )


@require_GET
def live_now(request: HttpRequest) -> HttpResponse:
    """The banner of sessions on now that the user may attend, in any of their
    portals; a script puts it into the library, so no login redirect here."""
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    memberships = memberships_of(request.user)
    live = [
        session
        for member in memberships
        for session in sessions.sessions_on(visible_presentations(member))
    ]
    return render(
        request,
        "live/now.html",
        {"live_now": live, "several_portals": len(memberships) > 1},
    )


@require_POST
@login_required
def move(request: HttpRequest, code: str) -> HttpResponseBase:
    """Next, previous, or a slide by position (``to``)."""
    _, session = session_to_present(request.user, code)
    to = request.POST.get("to", "next")
    try:
        if to in ("next", "previous"):
            sessions.move_by(session, 1 if to == "next" else -1)
        elif to.isdigit():
            sessions.show_position(session, int(to))
        else:
            return HttpResponse("Say next, previous or a slide number.", status=400)
    except sessions.SessionEnded:
        return HttpResponse(ENDED, status=409)
    return answer(request, session)


@require_POST
@login_required
def check_in(request: HttpRequest, code: str) -> HttpResponseBase:
    """Check an attendee in on site, or out again (``out``)."""
    _, session = session_to_present(request.user, code)
    attendee = attendee_for(session, request.POST.get("member", ""))
    try:
        if request.POST.get("out"):
            sessions.check_out(session, attendee)
        else:
            sessions.check_in(session, attendee)
    except sessions.SessionEnded:
        return HttpResponse(ENDED, status=409)
    news.presence_changed(session)
    return answer(request, session)


def attendee_for(session: LiveSession, member_id: str) -> Member:
    """A member who may attend; anyone else is unknown here (404)."""
    if not member_id.isdigit():
        raise Http404("No such attendee")
    attendee = sessions.may_attend(session).filter(pk=int(member_id)).first()
    if attendee is None:
        raise Http404("No such attendee")
    return attendee


@require_POST
@login_required
def end(request: HttpRequest, code: str) -> HttpResponseBase:
    _, session = session_to_present(request.user, code)
    try:
        sessions.end_session(session)
    except sessions.SessionEnded:
        return HttpResponse(ENDED, status=409)
    return answer(request, session)


def answer(request: HttpRequest, session: LiveSession) -> HttpResponseBase:
    """The presenter's state to a script, a redirect to a plain form."""
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(presenter_state(session))
    return redirect("live_present", session.code)


def page(request: HttpRequest, member: Member, **context: object) -> dict:
    """What the frame of every page needs (see web.members.page_context)."""
    portals = [m.portal for m in memberships_of(request.user)]
    return {"member": member, "portals": portals, **context}
