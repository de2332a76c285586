"""Sharing a presentation with the portal's groups, and revoking a share."""

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from entatio.engagement.access import (
    presentation_to_edit,
    revoke_share,
    share_presentation,
)
from entatio.engagement.models import Share
from entatio.library.models import Presentation
from entatio.people.groups import GroupError, create_group
from entatio.people.models import Member, SharingGroup
from entatio.web.forms import NewGroupForm, first_error
from entatio.web.members import member_page, page_context


class ShareWithGroupsForm(forms.Form):
    group = forms.ModelMultipleChoiceField(queryset=SharingGroup.objects.none())

    def __init__(self, portal_id: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["group"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = SharingGroup.objects.filter(portal_id=portal_id)


@require_GET
@member_page
def share(request: HttpRequest, member: Member, presentation_id: int) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    return render_share_page(request, member, presentation)


def render_share_page(
    request: HttpRequest,
    member: Member,
    presentation: Presentation,
    new_group_form: NewGroupForm | None = None,
    status: int = 200,
) -> HttpResponse:
    shares = (
        Share.objects.filter(presentation=presentation, revoked_at__isnull=True)
        .select_related("group")
        .annotate(member_count=Count("group__members"))
        .order_by("group__name")
    )
    shared_ids = {s.group_id for s in shares}
    groups = [
        g
        for g in SharingGroup.objects.filter(portal_id=member.portal_id)
        .annotate(member_count=Count("members"))
        .order_by("name")
        if g.pk not in shared_ids
    ]
    return render(
        request,
        "web/share.html",
        page_context(
            request,
            member,
            presentation=presentation,
            shares=shares,
            groups=groups,
            new_group_form=new_group_form or NewGroupForm(member.portal),
        ),
        status=status,
    )


@require_POST
@member_page
def share_with_group(
    request: HttpRequest, member: Member, presentation_id: int
) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    form = ShareWithGroupsForm(member.portal_id, request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("share", presentation.pk)

    groups = sorted(form.cleaned_data["group"], key=lambda g: g.name)
    for group in groups:
        share_presentation(presentation, group, by=member)
    messages.success(request, f"Shared with {', '.join(g.name for g in groups)}.")
    return redirect("share", presentation.pk)


@require_POST
@member_page
def share_with_new_group(
    request: HttpRequest, member: Member, presentation_id: int
) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    form = NewGroupForm(member.portal, request.POST)
    if not form.is_valid():
        return render_share_page(request, member, presentation, form, status=400)

    try:
        group = create_group(
            member.portal, form.cleaned_data["name"], form.cleaned_data["members"]
        )
    except GroupError as error:
        form.add_error("name", str(error))
        return render_share_page(request, member, presentation, form, status=400)

    share_presentation(presentation, group, by=member)
    count = len(form.cleaned_data["members"])
    messages.success(
        request, f"Created {group.name} with {count} member(s) and shared with it."
    )
    return redirect("share", presentation.pk)


@require_POST
@member_page
def revoke(
    request: HttpRequest, member: Member, presentation_id: int, group_id: int
) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    group = get_object_or_404(SharingGroup, portal_id=member.portal_id, pk=group_id)

    revoke_share(presentation, group)
    messages.success(
        request,
        f"{group.name} no longer sees this presentation; their records are kept.",
    )
    return redirect("share", presentation.pk)
