"""Sharing groups of a portal: made, renamed and filled by hand by authors."""

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from entatio.people.access import group_for
from entatio.people.groups import (
    GroupError,
    add_members,
    create_group,
    remove_members,
    rename_group,
)
from entatio.people.models import Member, Portal, SharingGroup
from entatio.web.forms import MemberChoiceField, NewGroupForm, first_error
from entatio.web.members import member_page, page_context, require_author


class GroupNameForm(forms.Form):
    name = forms.CharField(max_length=200, label="Group name")


class GroupMembersForm(forms.Form):
    members = MemberChoiceField(queryset=Member.objects.none())

    def __init__(self, portal: Portal, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["members"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = Member.objects.filter(portal=portal)


@require_GET
@member_page
def groups(request: HttpRequest, member: Member) -> HttpResponse:
    require_author(member)
    return render_groups(request, member, NewGroupForm(member.portal))


def render_groups(
    request: HttpRequest, member: Member, form: NewGroupForm, status: int = 200
) -> HttpResponse:
    portal_groups = (
        SharingGroup.objects.filter(portal_id=member.portal_id)
        .annotate(member_count=Count("members", distinct=True))
        .order_by("name")
    )
    context = page_context(request, member, groups=portal_groups, form=form)
    return render(request, "web/groups.html", context, status=status)


@require_POST
@member_page
def new_group(request: HttpRequest, member: Member) -> HttpResponse:
    require_author(member)
    form = NewGroupForm(member.portal, request.POST)
    if not form.is_valid():
        return render_groups(request, member, form, status=400)

    try:
        group = create_group(
            member.portal, form.cleaned_data["name"], form.cleaned_data["members"]
        )
    except GroupError as error:
        form.add_error("name", str(error))
        return render_groups(request, member, form, status=400)
    messages.success(request, f"Created {group.name}.")
    return redirect("group", group.pk)


@require_GET
@member_page
def group(request: HttpRequest, member: Member, group_id: int) -> HttpResponse:
    chosen = group_for(member, group_id)
    in_group = chosen.members.select_related("account").order_by("email")
    others = (
        Member.objects.filter(portal_id=member.portal_id)
        .exclude(pk__in=in_group.values("pk"))
        .order_by("first_name", "last_name", "email")
    )
    context = page_context(
        request, member, group=chosen, in_group=in_group, others=others
    )
    return render(request, "web/group.html", context)


@require_POST
@member_page
def rename(request: HttpRequest, member: Member, group_id: int) -> HttpResponse:
    chosen = group_for(member, group_id)
    form = GroupNameForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("group", chosen.pk)

    try:
        rename_group(chosen, form.cleaned_data["name"])
    except GroupError as error:
        messages.error(request, str(error))
        return redirect("group", chosen.pk)
    messages.success(request, f"Renamed to {chosen.name}.")
    return redirect("group", chosen.pk)


@require_POST
@member_page
def add(request: HttpRequest, member: Member, group_id: int) -> HttpResponse:
    chosen = group_for(member, group_id)
    form = GroupMembersForm(member.portal, request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("group", chosen.pk)

    count = add_members(chosen, form.cleaned_data["members"])
    messages.success(request, f"Added {count} member(s) to {chosen.name}.")
    return redirect("group", chosen.pk)


@require_POST
@member_page
def remove(request: HttpRequest, member: Member, group_id: int) -> HttpResponse:
    chosen = group_for(member, group_id)
    form = GroupMembersForm(member.portal, request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("group", chosen.pk)

    removed = list(form.cleaned_data["members"])
    remove_members(chosen, removed)
    messages.success(
        request,
        f"Removed {len(removed)} member(s) from {chosen.name}; "
        "their records are kept, archived.",
    )
    return redirect("group", chosen.pk)
