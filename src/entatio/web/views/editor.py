"""The slide editor: titles, descriptions, order and hidden slides.

Each change is a small form that works without scripts; the editor's script
sends the same forms in the background and asks for JSON instead of a
redirect. Every change goes through the library's editing functions.
"""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from entatio.engagement.access import presentation_to_edit
from entatio.library.editing import (
    EditError,
    ordered_places,
    rename_presentation,
    reorder_slides,
    set_slide_hidden,
    update_slide,
)
from entatio.library.models import Presentation, PresentationSlide
from entatio.people.models import Member
from entatio.web.forms import (
    HiddenForm,
    MoveForm,
    OrderForm,
    PresentationTitleForm,
    SlideForm,
    first_error,
)
from entatio.web.members import member_page, page_context


@require_GET
@member_page
def editor(request: HttpRequest, member: Member, presentation_id: int) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    places = ordered_places(presentation)
    return render(
        request,
        "web/editor.html",
        page_context(
            request,
            member,
            presentation=presentation,
            places=places,
            shown_count=sum(1 for p in places if not p.hidden),
        ),
    )


@require_POST
@member_page
def rename(request: HttpRequest, member: Member, presentation_id: int) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    form = PresentationTitleForm(request.POST)
    if not form.is_valid():
        return refused(request, presentation, first_error(form))

    try:
        rename_presentation(presentation, form.cleaned_data["title"])
    except EditError as error:
        return refused(request, presentation, str(error))
    return done(request, presentation, "Title saved.", title=presentation.title)


@require_POST
@member_page
def edit_slide(
    request: HttpRequest, member: Member, presentation_id: int, slide_id: int
) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    place = place_of(presentation, slide_id)
    form = SlideForm(request.POST)
    if not form.is_valid():
        return refused(request, presentation, first_error(form))

    slide = update_slide(
        place.slide,
        title=form.cleaned_data["title"],
        description=form.cleaned_data["description"],
    )
    return done(
        request,
        presentation,
        "Slide saved.",
        anchor=f"slide-{slide.pk}",
        title=slide.title,
        description=slide.description,
    )


@require_POST
@member_page
def hide_slide(
    request: HttpRequest, member: Member, presentation_id: int, slide_id: int
) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    place_of(presentation, slide_id)
    form = HiddenForm(request.POST)
    hidden = form.is_valid() and form.cleaned_data["hidden"]

    set_slide_hidden(presentation, slide_id, hidden)
    note = "Slide hidden from the audience." if hidden else "Slide shown again."
    return done(request, presentation, note, anchor=f"slide-{slide_id}", hidden=hidden)


@require_POST
@member_page
def move_slide(
    request: HttpRequest, member: Member, presentation_id: int, slide_id: int
) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    place_of(presentation, slide_id)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return refused(request, presentation, first_error(form))

    order = [p.slide_id for p in ordered_places(presentation)]
    step = -1 if form.cleaned_data["direction"] == "up" else 1
    reorder_slides(presentation, moved(order, slide_id, step))
    return done(request, presentation, "Order saved.", anchor=f"slide-{slide_id}")


@require_POST
@member_page
def reorder(request: HttpRequest, member: Member, presentation_id: int) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    form = OrderForm(request.POST)
    if not form.is_valid():
        return refused(request, presentation, first_error(form))

    try:
        reorder_slides(presentation, form.cleaned_data["order"])
    except EditError as error:
        return refused(request, presentation, str(error))
    return done(request, presentation, "Order saved.")


def place_of(presentation: Presentation, slide_id: int) -> PresentationSlide:
    place = presentation.places.select_related("slide").filter(slide_id=slide_id)
    found = place.first()
    if found is None:
        raise Http404("No such slide in this presentation")
    return found


def moved(order: list[int], slide_id: int, step: int) -> list[int]:
    """The order with one slide swapped with its neighbour, if it has one."""
    at = order.index(slide_id)
    other = at + step
    if 0 <= other < len(order):
        order[at], order[other] = order[other], order[at]
    return order


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def done(
    request: HttpRequest,
    presentation: Presentation,
    note: str,
    anchor: str = "",
    **data: Any,
) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"ok": True, "message": note, **data})
    messages.success(request, note)
    url = reverse("editor", args=[presentation.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


def refused(
    request: HttpRequest, presentation: Presentation, reason: str
) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"ok": False, "error": reason}, status=400)
    messages.error(request, reason)
    return redirect("editor", presentation.pk)
