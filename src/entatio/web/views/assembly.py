"""Assembling a presentation: pick slides from the library, remove, replace,
copy into another presentation, write text cards, and see where slides came
from. Every change goes through the library's assembly functions."""

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from entatio.engagement.access import (
    presentation_to_edit,
    visible_presentations,
    visible_slides,
)
from entatio.library.assembly import (
    copy_slide,
    create_text_card,
    insert_slides,
    remove_slide,
    replace_slide,
    slide_origins,
    update_text_card,
)
from entatio.library.editing import EditError, ordered_places
from entatio.library.models import Presentation, PresentationSlide, Slide
from entatio.library.search import search_words
from entatio.people.models import Member
from entatio.web.forms import first_error
from entatio.web.members import member_page, page_context
from entatio.web.views.editor import done, place_of, refused
from entatio.web.views.search import find_slides, search_query

# Ids beyond a 64-bit column cannot name anything; the database would fail on them.
MAX_ID = 2**63 - 1


class SlideIdsField(forms.Field):
    """Slide ids as checkboxes send them; access decides which may be used."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        try:
            ids = [int(v) for v in value or []]
        except (TypeError, ValueError) as error:
            raise forms.ValidationError("Pick slides by their ids.") from error
        if not all(0 < pk <= MAX_ID for pk in ids):
            raise forms.ValidationError("Pick slides by their ids.")
        return ids


class InsertForm(forms.Form):
    slides = SlideIdsField(label="Slides")
    position = forms.IntegerField(min_value=0, max_value=MAX_ID, required=False)
    copy = forms.BooleanField(required=False)


class ReplaceForm(forms.Form):
    replacement = forms.IntegerField(min_value=1, max_value=MAX_ID)


class CopyForm(forms.Form):
    target = forms.IntegerField(min_value=1, max_value=MAX_ID)
    position = forms.IntegerField(min_value=0, max_value=MAX_ID, required=False)


class CardForm(forms.Form):
    title = forms.CharField(max_length=300, required=False)
    text = forms.CharField(required=False, widget=forms.Textarea, strip=False)
    position = forms.IntegerField(min_value=0, max_value=MAX_ID, required=False)


def slides_for_member(member: Member, slide_ids: list[int]) -> list[Slide]:
    """The slides in the order asked for; 404 if any is not the member's to see."""
    found = visible_slides(member).in_bulk(slide_ids)
    if len(found) != len(set(slide_ids)):
        raise Http404("No such slide")
    return [found[pk] for pk in slide_ids]


@require_GET
@member_page
def picker(request: HttpRequest, member: Member, presentation_id: int) -> HttpResponse:
    """Search the library for slides to insert, or for one to replace a slide."""
    presentation = presentation_to_edit(member, presentation_id)
    query = search_query(request)
    replacing = replaced_place(request, presentation)

    hits = find_slides(member, query) if search_words(query) else []
    return render(
        request,
        "web/picker.html",
        page_context(
            request,
            member,
            presentation=presentation,
            query=query,
            hits=hits,
            pick=replacing is None,
            replacing=replacing,
            places=ordered_places(presentation),
        ),
    )


def replaced_place(
    request: HttpRequest, presentation: Presentation
) -> PresentationSlide | None:
    slide_id = request.GET.get("replace", "")
    if not slide_id:
        return None
    if not slide_id.isdigit():
        raise Http404("No such slide in this presentation")
    return place_of(presentation, int(slide_id))


@require_POST
@member_page
def insert(request: HttpRequest, member: Member, presentation_id: int) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    form = InsertForm(request.POST)
    if not form.is_valid():
        return refused(request, presentation, first_error(form))
    slides = slides_for_member(member, form.cleaned_data["slides"])

    at = form.cleaned_data["position"]
    try:
        if form.cleaned_data["copy"]:
            for offset, slide in enumerate(slides):
                copy_slide(slide, presentation, None if at is None else at + offset)
        else:
            insert_slides(presentation, slides, at)
    except EditError as error:
        return refused(request, presentation, str(error))

    count = len(slides)
    note = f"{count} slide{'s' if count != 1 else ''} inserted."
    return done(request, presentation, note, inserted=[s.pk for s in slides])


@require_POST
@member_page
def remove(
    request: HttpRequest, member: Member, presentation_id: int, slide_id: int
) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    place_of(presentation, slide_id)

    remove_slide(presentation, slide_id)
    return done(request, presentation, "Slide removed from this presentation.")


@require_POST
@member_page
def replace(
    request: HttpRequest, member: Member, presentation_id: int, slide_id: int
) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    place_of(presentation, slide_id)
    form = ReplaceForm(request.POST)
    if not form.is_valid():
        return refused(request, presentation, first_error(form))
    (replacement,) = slides_for_member(member, [form.cleaned_data["replacement"]])

    try:
        replace_slide(presentation, slide_id, replacement)
    except EditError as error:
        return refused(request, presentation, str(error))
    return done(
        request, presentation, "Slide replaced.", anchor=f"slide-{replacement.pk}"
    )


@require_GET
@member_page
def copy_page(
    request: HttpRequest, member: Member, presentation_id: int, slide_id: int
) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    place = place_of(presentation, slide_id)
    targets = visible_presentations(member).exclude(pk=presentation.pk)
    return render(
        request,
        "web/copy_slide.html",
        page_context(
            request,
            member,
            presentation=presentation,
            slide=place.slide,
            targets=targets.order_by("title", "pk"),
        ),
    )


@require_POST
@member_page
def copy(
    request: HttpRequest, member: Member, presentation_id: int, slide_id: int
) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    place = place_of(presentation, slide_id)
    form = CopyForm(request.POST)
    if not form.is_valid():
        return refused(request, presentation, first_error(form))
    target = presentation_to_edit(member, form.cleaned_data["target"])

    try:
        made = copy_slide(place.slide, target, form.cleaned_data["position"])
    except EditError as error:
        return refused(request, presentation, str(error))
    return done(
        request,
        target,
        f"Slide copied into “{target.title}”.",
        anchor=f"slide-{made.slide_id}",
        copy=made.slide_id,
    )


@require_POST
@member_page
def add_card(
    request: HttpRequest, member: Member, presentation_id: int
) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    form = CardForm(request.POST)
    if not form.is_valid():
        return refused(request, presentation, first_error(form))

    data = form.cleaned_data
    try:
        place = create_text_card(
            presentation, data["title"], data["text"], data["position"]
        )
    except EditError as error:
        return refused(request, presentation, str(error))
    return done(
        request,
        presentation,
        "Text card added.",
        anchor=f"slide-{place.slide_id}",
        card=place.slide_id,
    )


@require_POST
@member_page
def edit_card(
    request: HttpRequest, member: Member, presentation_id: int, slide_id: int
) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    place = place_of(presentation, slide_id)
    form = CardForm(request.POST)
    if not form.is_valid():
        return refused(request, presentation, first_error(form))

    # The editor sends the card's text alone; its title has a form of its own.
    title = form.cleaned_data["title"] if "title" in request.POST else None
    try:
        update_text_card(
            place.slide,
            place.slide.title if title is None else title,
            form.cleaned_data["text"],
        )
    except EditError as error:
        return refused(request, presentation, str(error))
    return done(request, presentation, "Card saved.", anchor=f"slide-{slide_id}")


@require_GET
@member_page
def origins(request: HttpRequest, member: Member, presentation_id: int) -> HttpResponse:
    """Where each slide of the presentation came from."""
    presentation = presentation_to_edit(member, presentation_id)
    return render(
        request,
        "web/origins.html",
        page_context(
            request,
            member,
            presentation=presentation,
            origins=slide_origins(presentation),
            editor_url=reverse("editor", args=[presentation.pk]),
        ),
    )
