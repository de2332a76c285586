"""The invite wizard: addresses or a people CSV, a preview, then invitations.

The preview changes nothing; the text it was made from travels in the form,
so sending reads exactly what the author saw.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from entatio.people.access import invitation_for
from entatio.people.directory import (
    DirectoryError,
    PersonRow,
    import_people,
    preview_people,
    read_addresses,
    read_people_text,
)
from entatio.people.invitations import (
    InvitationError,
    accept_invitation,
    count_by_status,
    existing_login,
    invitation_of_token,
    invitations_of,
    invite_members,
    resend_invitation,
    revoke_invitation,
)
from entatio.people.limits import allow_attempt, client_address
from entatio.people.models import Member, Portal, SharingGroup
from entatio.web.members import (
    PORTAL_SESSION_KEY,
    member_page,
    page_context,
    require_author,
)

MAX_CSV_BYTES = 2 << 20


class InviteForm(forms.Form):
    addresses = forms.CharField(required=False, widget=forms.Textarea)
    people_csv = forms.FileField(required=False, label="People CSV")
    group = forms.ModelChoiceField(queryset=SharingGroup.objects.none(), required=False)

    def __init__(self, portal: Portal, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["group"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = SharingGroup.objects.filter(portal=portal).order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("people_csv")
        if upload is not None:
            if upload.size > MAX_CSV_BYTES:
                raise ValidationError("The CSV is over 2 MB; split it.")
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError as error:
                raise ValidationError("The CSV must be UTF-8 text.") from error
            data["kind"] = "csv"
        elif data.get("addresses", "").strip():
            data["text"], data["kind"] = data["addresses"], "addresses"
        else:
            raise ValidationError("Paste addresses or pick a people CSV.")
        return data


class ConfirmForm(forms.Form):
    """The preview's own input again, as hidden fields."""

    kind = forms.ChoiceField(choices=[("csv", "CSV"), ("addresses", "Addresses")])
    text = forms.CharField(strip=False)
    group = forms.ModelChoiceField(queryset=SharingGroup.objects.none(), required=False)

    def __init__(self, portal: Portal, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["group"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = SharingGroup.objects.filter(portal=portal)


class AcceptForm(forms.Form):
    password = forms.CharField(strip=False, required=False)
    password_again = forms.CharField(strip=False, required=False)


def people_rows(kind: str, text: str) -> list[PersonRow | tuple[int, str]]:
    if kind == "csv":
        return read_people_text(text, "the CSV")
    return read_addresses(text)


@require_GET
@member_page
def invites(request: HttpRequest, member: Member) -> HttpResponse:
    require_author(member)
    return render_invites(request, member, InviteForm(member.portal))


def render_invites(
    request: HttpRequest, member: Member, form: InviteForm, status: int = 200
) -> HttpResponse:
    rows = invitations_of(member.portal)
    context = page_context(
        request, member, form=form, invitations=rows, counts=count_by_status(rows)
    )
    return render(request, "web/invites.html", context, status=status)


@require_POST
@member_page
def invite_preview(request: HttpRequest, member: Member) -> HttpResponse:
    require_author(member)
    form = InviteForm(member.portal, request.POST, request.FILES)
    if not form.is_valid():
        return render_invites(request, member, form, status=400)

    data = form.cleaned_data
    try:
        planned = preview_people(member.portal, people_rows(data["kind"], data["text"]))
    except DirectoryError as error:
        form.add_error(None, str(error))
        return render_invites(request, member, form, status=400)

    good = [p for p in planned if not p.is_bad]
    context = page_context(
        request,
        member,
        planned=planned,
        good_count=len(good),
        bad_count=len(planned) - len(good),
        kind=data["kind"],
        text=data["text"],
        group=data.get("group"),
    )
    return render(request, "web/invite_preview.html", context)


@require_POST
@member_page
def send_invites(request: HttpRequest, member: Member) -> HttpResponse:
    require_author(member)
    form = ConfirmForm(member.portal, request.POST)
    if not form.is_valid():
        messages.error(request, "The preview was incomplete; start again.")
        return redirect("invites")

    data = form.cleaned_data
    try:
        rows = people_rows(data["kind"], data["text"])
    except DirectoryError as error:
        messages.error(request, str(error))
        return redirect("invites")
    result = import_people(member.portal, rows, data["group"])
    sent = invite_members(result.members, invited_by=member)

    skipped = len(result.members) - len(sent)
    messages.success(
        request,
        f"Sent {len(sent)} invitation(s); {skipped} already had a login or a "
        f"working invitation; {len(result.errors)} bad row(s) left out.",
    )
    return redirect("invites")


@require_POST
@member_page
def resend_invite(
    request: HttpRequest, member: Member, invitation_id: int
) -> HttpResponse:
    invitation = invitation_for(member, invitation_id)
    try:
        resend_invitation(invitation)
    except InvitationError as error:
        messages.error(request, str(error))
        return redirect("invites")
    messages.success(request, f"Sent a new link to {invitation.member.email}.")
    return redirect("invites")


@require_POST
@member_page
def revoke_invite(
    request: HttpRequest, member: Member, invitation_id: int
) -> HttpResponse:
    invitation = invitation_for(member, invitation_id)
    try:
        revoke_invitation(invitation)
    except InvitationError as error:
        messages.error(request, str(error))
        return redirect("invites")
    messages.success(request, f"The link sent to {invitation.member.email} is void.")
    return redirect("invites")


@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, token: str) -> HttpResponse:
    """Anybody holding the link may use it once; the link is the proof."""
    if request.method == "POST" and not allow_attempt(
        "invitation", client_address(request)
    ):
        return render(request, "web/rate_limited.html", status=429)
    try:
        invitation = invitation_of_token(token)
    except InvitationError as error:
        return _unusable(request, error)

    email = invitation.member.email
    has_login = existing_login(email) is not None
    form = AcceptForm(request.POST or None)
    context: dict[str, Any] = {
        "invitation": invitation,
        "has_login": has_login,
        "form": form,
    }
    if request.method == "GET" or not form.is_valid():
        return render(request, "web/accept_invitation.html", context)

    password = "" if has_login else _chosen_password(form, email)
    if form.errors:
        return render(request, "web/accept_invitation.html", context, status=400)
    try:
        joined = accept_invitation(token, password or None)
    except InvitationError as error:
        return _unusable(request, error)
    return _welcome(request, joined, has_login)


def _unusable(request: HttpRequest, error: InvitationError) -> HttpResponse:
    context = {"problem": str(error)}
    return render(request, "web/link_unusable.html", context, status=410)


def _chosen_password(form: AcceptForm, email: str) -> str:
    password = form.cleaned_data["password"]
    if password != form.cleaned_data["password_again"]:
        form.add_error("password_again", "The two passwords differ.")
        return ""
    try:
        validate_password(password)
    except ValidationError as error:
        for message in error.messages:
            form.add_error("password", message)
        return ""
    return password


def _welcome(request: HttpRequest, member: Member, had_login: bool) -> HttpResponse:
    portal = member.portal
    if had_login:
        # Their own password signs them in; the link alone does not.
        messages.success(
            request, f"You joined {portal.name}; log in with your usual password."
        )
        return redirect("login")

    assert member.user is not None
    login(request, member.user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[PORTAL_SESSION_KEY] = portal.pk
    messages.success(request, f"Welcome to {portal.name}.")
    return redirect("library")
