"""Sign-up forms: authors make them; anybody with the link signs up.

Also the login page, which counts failed attempts per address and per login
name and refuses more once the limit is reached.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from entatio.people.access import signup_for, signup_form_for
from entatio.people.limits import (
    allow_attempt,
    client_address,
    count_attempt,
    is_limited,
)
from entatio.people.mail import public_link
from entatio.people.models import Member, Portal, SharingGroup, Signup, SignupForm
from entatio.people.signups import (
    QUESTION_PREFIX,
    SignupError,
    SignupFormSpec,
    approve_signup,
    create_signup_form,
    domains_of,
    reject_signup,
    set_signup_form_open,
    start_signup,
    verify_signup,
)
from entatio.web.forms import first_error
from entatio.web.members import (
    PORTAL_SESSION_KEY,
    member_page,
    page_context,
    require_author,
)


class RateLimitedLoginView(auth_views.LoginView):
    """Django's login, refusing a client or a login name after many failures."""

    template_name = "web/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        limits = self._limits(request)
        if any(is_limited(scope, key) for scope, key in limits):
            return render(request, "web/rate_limited.html", status=429)
        response = super().post(request, *args, **kwargs)
        if not request.user.is_authenticated:
            for scope, key in limits:
                count_attempt(scope, key)
        return response

    def _limits(self, request: HttpRequest) -> list[tuple[str, str]]:
        # Guessing one login's password is limited per address and name, so
        # a stranger's failures never lock its owner out elsewhere; trying
        # many names from one address meets the wider address limit.
        name = request.POST.get("username", "").strip().lower()[:150]
        address = client_address(request)
        return [("login", f"{address}:{name}"), ("login_address", address)]


class SignupFormForm(forms.Form):
    title = forms.CharField(max_length=200)
    asks = forms.MultipleChoiceField(
        label="Ask for",
        choices=SignupForm.Field.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    questions = forms.CharField(required=False, widget=forms.Textarea)
    allowed_domains = forms.CharField(required=False)
    denied_domains = forms.CharField(required=False)
    needs_approval = forms.BooleanField(required=False)
    group = forms.ModelChoiceField(queryset=SharingGroup.objects.none(), required=False)

    def __init__(self, portal: Portal, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["group"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = SharingGroup.objects.filter(portal=portal).order_by("name")

    def spec(self) -> SignupFormSpec:
        data = self.cleaned_data
        return SignupFormSpec(
            title=data["title"],
            fields=data["asks"],
            questions=data["questions"].splitlines(),
            allowed_domains=domains_of(data["allowed_domains"]),
            denied_domains=domains_of(data["denied_domains"]),
            needs_approval=data["needs_approval"],
            group=data["group"],
        )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])


def entry_form(spec: SignupForm, data: Any = None) -> forms.Form:
    """The public form with the fields and questions the author picked."""
    form = forms.Form(data)
    form.fields["email"] = forms.EmailField(label="E-mail", max_length=254)
    form.fields["password"] = forms.CharField(
        label="Choose a password", strip=False, widget=forms.PasswordInput
    )
    if SignupForm.Field.NAME in spec.fields:
        form.fields["first_name"] = forms.CharField(label="First name", max_length=150)
        form.fields["last_name"] = forms.CharField(label="Last name", max_length=150)
    labels = {
        SignupForm.Field.COMPANY: ("company", "Company", 255),
        SignupForm.Field.ROLE: ("role", "Your role", 100),
        SignupForm.Field.TITLE: ("title", "Job title", 200),
        SignupForm.Field.REGION: ("region", "Region", 100),
    }
    for field, (name, label, length) in labels.items():
        if field in spec.fields:
            form.fields[name] = forms.CharField(label=label, max_length=length)
    for number, question in enumerate(spec.questions):
        form.fields[f"question_{number}"] = forms.CharField(
            label=question, max_length=1000, required=False
        )
    return form


def answers_of(spec: SignupForm, form: forms.Form) -> dict[str, str]:
    data = form.cleaned_data
    answers: dict[str, str] = {
        name: data[name]
        for name in ("first_name", "last_name", "company", "role", "title", "region")
        if name in data
    }
    for number, question in enumerate(spec.questions):
        answers[QUESTION_PREFIX + question] = data.get(f"question_{number}", "")
    return answers


@require_GET
@member_page
def signup_forms(request: HttpRequest, member: Member) -> HttpResponse:
    require_author(member)
    return render_signup_forms(request, member, SignupFormForm(member.portal))


def render_signup_forms(
    request: HttpRequest, member: Member, form: SignupFormForm, status: int = 200
) -> HttpResponse:
    waiting = Q(signups__status=Signup.Status.AWAITING_APPROVAL)
    portal_forms = (
        SignupForm.objects.filter(portal_id=member.portal_id)
        .select_related("group")
        .annotate(
            joined=Count("signups", filter=Q(signups__status=Signup.Status.JOINED)),
            waiting=Count("signups", filter=waiting),
        )
        .order_by("-created_at")
    )
    links = {f.pk: public_link(reverse("signup", args=[f.key])) for f in portal_forms}
    awaiting = (
        Signup.objects.filter(
            form__portal_id=member.portal_id,
            status=Signup.Status.AWAITING_APPROVAL,
        )
        .select_related("form")
        .order_by("verified_at")
    )
    context = page_context(
        request,
        member,
        signup_forms=[(f, links[f.pk]) for f in portal_forms],
        awaiting=awaiting,
        form=form,
        field_choices=SignupForm.Field.choices,
        groups=SharingGroup.objects.filter(portal_id=member.portal_id).order_by("name"),
    )
    return render(request, "web/signup_forms.html", context, status=status)


@require_POST
@member_page
def new_signup_form(request: HttpRequest, member: Member) -> HttpResponse:
    require_author(member)
    form = SignupFormForm(member.portal, request.POST)
    if not form.is_valid():
        return render_signup_forms(request, member, form, status=400)

    try:
        made = create_signup_form(member.portal, form.spec(), by=member)
    except SignupError as error:
        form.add_error(None, str(error))
        return render_signup_forms(request, member, form, status=400)
    messages.success(request, f"The sign-up form “{made.title}” is open.")
    return redirect("signup_forms")


@require_POST
@member_page
def open_or_close(request: HttpRequest, member: Member, form_id: int) -> HttpResponse:
    spec = signup_form_for(member, form_id)
    is_open = request.POST.get("open") == "1"

    set_signup_form_open(spec, is_open)
    state = "open" if is_open else "closed; its link no longer works"
    messages.success(request, f"The sign-up form “{spec.title}” is {state}.")
    return redirect("signup_forms")


@require_POST
@member_page
def decide_signup(request: HttpRequest, member: Member, signup_id: int) -> HttpResponse:
    signup = signup_for(member, signup_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("signup_forms")

    try:
        if form.cleaned_data["decision"] == "approve":
            approve_signup(signup, by=member)
            messages.success(request, f"{signup.email} joined and was told so.")
        else:
            reject_signup(signup, by=member)
            messages.success(request, f"The sign-up of {signup.email} was turned down.")
    except SignupError as error:
        messages.error(request, str(error))
    return redirect("signup_forms")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest, key: str) -> HttpResponseBase:
    """The public page of a sign-up form; closed or unknown forms are 404."""
    spec = (
        SignupForm.objects.filter(key=key, is_open=True)
        .select_related("portal", "portal__organization")
        .first()
    )
    if spec is None:
        raise Http404("No such sign-up form")
    if request.method == "POST" and not allow_attempt(
        "signup", client_address(request)
    ):
        return render(request, "web/rate_limited.html", status=429)

    form = entry_form(spec, request.POST if request.method == "POST" else None)
    context = {"spec": spec, "form": form}
    if request.method == "GET" or not form.is_valid():
        return render(request, "web/signup.html", context)
    try:
        validate_password(form.cleaned_data["password"])
        made = start_signup(
            spec,
            form.cleaned_data["email"],
            form.cleaned_data["password"],
            answers_of(spec, form),
        )
    except ValidationError as error:
        for message in error.messages:
            form.add_error("password", message)
        return render(request, "web/signup.html", context, status=400)
    except SignupError as error:
        form.add_error("email", str(error))
        return render(request, "web/signup.html", context, status=400)
    context["sent_to"] = made.email
    return render(request, "web/signup_sent.html", context)


@require_GET
def verify(request: HttpRequest, token: str) -> HttpResponseBase:
    if not allow_attempt("verify", client_address(request)):
        return render(request, "web/rate_limited.html", status=429)
    try:
        verified = verify_signup(token)
    except SignupError as error:
        problem = {"problem": str(error)}
        return render(request, "web/link_unusable.html", problem, status=410)

    portal = verified.form.portal
    if verified.status != Signup.Status.JOINED:
        context: dict[str, Any] = {"portal": portal, "email": verified.email}
        return render(request, "web/signup_waiting.html", context)
    assert verified.member is not None and verified.member.user is not None
    user = verified.member.user
    if user.password != verified.password_hash:
        # A login that existed before keeps its own password; the link
        # proves the address, not the right to skip that password.
        messages.success(request, f"You joined {portal.name}; log in as usual.")
        return redirect("login")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[PORTAL_SESSION_KEY] = portal.pk
    messages.success(request, f"Your address is verified. Welcome to {portal.name}.")
    return redirect("library")
