"""The portal's members and their roles, and new portals, for owners."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from entatio.people.access import portal_member_for, require_owner
from entatio.people.models import Member, Portal
from entatio.people.portals import PortalError, change_role, create_portal
from entatio.web.forms import first_error
from entatio.web.members import choose_portal, member_page, page_context


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Member.Role.choices)


class NewPortalForm(forms.Form):
    name = forms.CharField(max_length=200, label="Portal name")
    kind = forms.ChoiceField(choices=Portal.Kind.choices)


@require_GET
@member_page
def members(request: HttpRequest, member: Member) -> HttpResponse:
    require_owner(member)
    people = (
        Member.objects.filter(portal_id=member.portal_id, erased_at__isnull=True)
        .select_related("account")
        .order_by("role", "first_name", "last_name", "email")
    )
    context = page_context(
        request,
        member,
        people=people,
        roles=Member.Role.choices,
        kinds=Portal.Kind.choices,
    )
    return render(request, "web/members.html", context)


@require_POST
@member_page
def set_role(request: HttpRequest, member: Member, member_id: int) -> HttpResponse:
    other = portal_member_for(member, member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("portal_members")

    try:
        change_role(other, form.cleaned_data["role"])
    except PortalError as error:
        messages.error(request, str(error))
        return redirect("portal_members")
    messages.success(request, f"{other.display_name} is now {other.role}.")
    return redirect("portal_members")


@require_POST
@member_page
def new_portal(request: HttpRequest, member: Member) -> HttpResponse:
    require_owner(member)
    form = NewPortalForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("portal_members")

    try:
        portal = create_portal(
            member, form.cleaned_data["name"], form.cleaned_data["kind"]
        )
    except PortalError as error:
        messages.error(request, str(error))
        return redirect("portal_members")
    choose_portal(request, portal.pk)
    messages.success(request, f"Made {portal.name}; you are its owner.")
    return redirect("portal_members")
