"""Discussion pages and the viewer's discussion panels.

One set of views serves both: a request from the viewer's script (marked by
the ``X-Entatio-Fragment`` header) gets the thread alone, to put in its
panel; a plain browser gets a whole page, and a form sent without a script
is answered with a redirect back to that page.
"""

from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
)
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from entatio.discussions.access import (
    post_for,
    require_author_of_portal,
    slide_discussed,
)
from entatio.discussions.models import Post
from entatio.discussions.posting import (
    MAX_BODY_CHARS,
    PostError,
    delete_post,
    edit_post,
    reply_to,
    start_post,
)
from entatio.discussions.threads import (
    Discussion,
    discussions_of,
    thread,
    threads_by_slide,
)
from entatio.engagement.access import presentation_of_user
from entatio.library.models import Presentation, Slide
from entatio.people.access import memberships_of
from entatio.people.limits import allow_attempt
from entatio.people.models import Member

FRAGMENT_HEADER = "X-Entatio-Fragment"
RATE_LIMITED = "You posted a lot in a short time; wait a few minutes, then post again."


@require_GET
@login_required
def thread_page(request: HttpRequest, presentation_id: int) -> HttpResponse:
    """The thread of the slide named by ?slide=, or of the whole presentation."""
    member, presentation = presentation_of_user(request.user, presentation_id)
    slide = _requested_slide(request.GET, member, presentation)
    return _thread_response(request, member, presentation, slide)


@require_POST
@login_required
def write_post(request: HttpRequest, presentation_id: int) -> HttpResponse:
    """A new post, or a reply when the form names the post it answers."""
    member, presentation = presentation_of_user(request.user, presentation_id)
    parent = _parent_post(request.POST, member, presentation)
    slide = (
        parent.slide
        if parent is not None
        else _requested_slide(request.POST, member, presentation)
    )
    body = request.POST.get("body", "")

    if not allow_attempt("discussion_post", str(member.pk)):
        return _thread_response(
            request,
            member,
            presentation,
            slide,
            error=RATE_LIMITED,
            draft=body,
            status=429,
        )
    try:
        if parent is not None:
            post = reply_to(member, parent, body)
        else:
            post = start_post(member, presentation, slide, body)
    except PostError as error:
        return _thread_response(
            request, member, presentation, slide, error=str(error), draft=body
        )
    return _after_change(request, member, presentation, slide, post)


@require_POST
@login_required
def change_post(request: HttpRequest, post_id: int) -> HttpResponse:
    member, post = post_for(request.user, post_id)
    body = request.POST.get("body", "")
    try:
        edit_post(member, post, body)
    except PostError as error:
        return _thread_response(
            request, member, post.presentation, post.slide, error=str(error)
        )
    return _after_change(request, member, post.presentation, post.slide, post)


@require_POST
@login_required
def remove_post(request: HttpRequest, post_id: int) -> HttpResponse:
    member, post = post_for(request.user, post_id)
    delete_post(member, post)
    return _after_change(request, member, post.presentation, post.slide, post)


@require_GET
@login_required
def presentation_discussions(
    request: HttpRequest, presentation_id: int
) -> HttpResponse:
    """Every thread of a presentation on one page, for its authors to follow."""
    member, presentation = presentation_of_user(request.user, presentation_id)
    require_author_of_portal(member)

    posts = threads_by_slide(presentation)
    threads = [
        (d, _thread_context(member, presentation, d.slide, posts=posts[_key(d)]))
        for d in discussions_of(presentation)
    ]
    return render(
        request,
        "discussions/presentation.html",
        _page_context(
            request,
            {"member": member, "presentation": presentation, "threads": threads},
        ),
    )


def _requested_slide(
    data: QueryDict, member: Member, presentation: Presentation
) -> Slide | None:
    """The slide a form or query names; none means the whole presentation."""
    raw = data.get("slide", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404("No such slide")
    return slide_discussed(member, presentation, int(raw))


def _parent_post(
    data: QueryDict, member: Member, presentation: Presentation
) -> Post | None:
    """The post a reply answers: one of this presentation, on a slide they see."""
    raw = data.get("parent", "")
    if not raw:
        return None
    parent = (
        Post.objects.filter(presentation=presentation, pk=int(raw))
        .select_related("parent", "presentation", "slide")
        .first()
        if raw.isdigit()
        else None
    )
    if parent is None:
        raise Http404("No such post")
    if parent.slide_id is not None:
        slide_discussed(member, presentation, parent.slide_id)
    return parent


def _after_change(
    request: HttpRequest,
    member: Member,
    presentation: Presentation,
    slide: Slide | None,
    post: Post,
) -> HttpResponse:
    if _wants_fragment(request):
        return _thread_response(request, member, presentation, slide)
    url = _thread_url(presentation, slide)
    return HttpResponseRedirect(f"{url}#post-{post.pk}")


def _thread_response(
    request: HttpRequest,
    member: Member,
    presentation: Presentation,
    slide: Slide | None,
    error: str = "",
    draft: str = "",
    status: int | None = None,
) -> HttpResponse:
    context = _thread_context(member, presentation, slide, error=error, draft=draft)
    if status is None:
        status = 400 if error else 200
    if _wants_fragment(request):
        return render(request, "discussions/thread.html", context, status=status)
    return render(
        request,
        "discussions/thread_page.html",
        _page_context(request, context),
        status=status,
    )


def _thread_context(
    member: Member,
    presentation: Presentation,
    slide: Slide | None,
    error: str = "",
    draft: str = "",
    posts: list[Post] | None = None,
) -> dict:
    return {
        "member": member,
        "presentation": presentation,
        "slide": slide,
        "posts": thread(presentation, slide) if posts is None else posts,
        "thread_key": f"s{slide.pk}" if slide else f"p{presentation.pk}",
        "thread_url": _thread_url(presentation, slide),
        "max_body": f"{MAX_BODY_CHARS:,}",
        "error": error,
        "draft": draft,
    }


def _key(discussion: Discussion) -> int | None:
    return discussion.slide.pk if discussion.slide else None


def _thread_url(presentation: Presentation, slide: Slide | None) -> str:
    url = reverse("discussion_thread", args=[presentation.pk])
    return f"{url}?slide={slide.pk}" if slide else url


def _wants_fragment(request: HttpRequest) -> bool:
    return request.headers.get(FRAGMENT_HEADER) == "thread"


def _page_context(request: HttpRequest, context: dict) -> dict:
    """The page's own context and what the site's frame needs besides."""
    portals = [m.portal for m in memberships_of(request.user)]
    return {**context, "portals": portals}
