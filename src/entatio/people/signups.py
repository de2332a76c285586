"""Sign-up forms: a public link where people join a portal or one of its groups.

An author picks the fields (name, company, role, title, region) and free
questions; the answers become the member's metadata and account. A sign-up
waits for its e-mail address to be verified, then for an author's approval
when the form asks for one; only then is a login made or linked.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from entatio.people.directory import RowError, account_for
from entatio.people.invitations import existing_login
from entatio.people.mail import public_link, send_message
from entatio.people.models import Member, Portal, SharingGroup, Signup, SignupForm

logger = logging.getLogger(__name__)

VERIFY_SALT = "entatio.people.signup"
VERIFY_VALID = timedelta(days=2)
QUESTION_PREFIX = "question:"


class SignupError(ValueError):
    """A sign-up that cannot be taken or changed, with what to do."""


@dataclass
class SignupFormSpec:
    title: str
    fields: list[str]
    questions: list[str]
    allowed_domains: list[str]
    denied_domains: list[str]
    needs_approval: bool
    group: SharingGroup | None = None


def domains_of(text: str) -> list[str]:
    """``example.com, @other.org`` as ``["example.com", "other.org"]``."""
    parts = text.replace(",", " ").replace(";", " ").split()
    return sorted({part.lstrip("@").lower() for part in parts if part.strip("@")})


def create_signup_form(
    portal: Portal, spec: SignupFormSpec, by: Member | None = None
) -> SignupForm:
    """A new open sign-up form of the portal, with its own public key."""
    if spec.group is not None and spec.group.portal_id != portal.pk:
        raise SignupError("A sign-up form can only fill a group of its own portal.")
    unknown = set(spec.fields) - set(SignupForm.Field.values)
    if unknown:
        raise SignupError(f"Unknown fields: {', '.join(sorted(unknown))}.")

    return SignupForm.objects.create(
        portal=portal,
        group=spec.group,
        key=secrets.token_urlsafe(12),
        title=" ".join(spec.title.split())[:200] or f"Join {portal.name}",
        fields=spec.fields,
        questions=[q.strip() for q in spec.questions if q.strip()],
        allowed_domains=spec.allowed_domains,
        denied_domains=spec.denied_domains,
        needs_approval=spec.needs_approval,
        created_by=by,
    )


def set_signup_form_open(form: SignupForm, is_open: bool) -> SignupForm:
    """Open or close the form; a closed form's link answers 404."""
    form.is_open = is_open
    form.save(update_fields=["is_open"])
    return form


def refusal_of_address(form: SignupForm, email: str) -> str | None:
    """Why the form does not take this address, or None when it does."""
    domain = email.rsplit("@", 1)[-1].lower()

    def listed(domains: list[str]) -> bool:
        return any(domain == d or domain.endswith("." + d) for d in domains)

    if listed(form.denied_domains):
        return f"Addresses at {domain} cannot sign up here."
    if form.allowed_domains and not listed(form.allowed_domains):
        allowed = ", ".join(form.allowed_domains)
        return f"Only addresses at {allowed} can sign up here."
    return None


def start_signup(
    form: SignupForm, email: str, password: str, answers: dict[str, str]
) -> Signup:
    """Keep the answers and mail a link that verifies the address."""
    email = email.strip().lower()
    if not form.is_open:
        raise SignupError("This sign-up form is closed.")
    refusal = refusal_of_address(form, email)
    if refusal:
        raise SignupError(refusal)
    joined = Member.objects.filter(
        portal_id=form.portal_id, email__iexact=email, user__isnull=False
    )
    if joined.exists():
        raise SignupError("This address is a member already; log in instead.")

    signup = Signup.objects.create(
        form=form,
        email=email,
        answers=answers,
        password_hash=make_password(password),
    )
    _mail_verification(signup)
    return signup


def verification_link(signup: Signup) -> str:
    token = signing.dumps([signup.pk, signup.email], salt=VERIFY_SALT)
    return public_link(reverse("verify_signup", args=[token]))


def _mail_verification(signup: Signup) -> None:
    portal = signup.form.portal
    context = {
        "portal": portal,
        "link": verification_link(signup),
        "expires_at": timezone.now() + VERIFY_VALID,
    }
    send_message("verify_signup", signup.email, context)


def verify_signup(token: str) -> Signup:
    """Mark the address verified; the person joins unless approval is needed."""
    try:
        pk, email = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_VALID)
    except signing.SignatureExpired as error:
        raise SignupError("This link has expired; sign up again.") from error
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise SignupError("This link is not valid; copy all of it.") from error

    with transaction.atomic():
        signup = (
            Signup.objects.select_for_update()
            .filter(pk=pk, email=email)
            .select_related("form", "form__portal")
            .first()
        )
        if signup is None:
            raise SignupError("This sign-up no longer exists; sign up again.")
        if signup.status != Signup.Status.UNVERIFIED:
            raise SignupError("This address was verified already.")

        signup.verified_at = timezone.now()
        signup.status = Signup.Status.AWAITING_APPROVAL
        signup.save(update_fields=["verified_at", "status"])
        if not signup.form.needs_approval:
            _join(signup)
    return signup


def approve_signup(signup: Signup, by: Member) -> Member:
    """An author lets a verified person in, and the person is told so."""
    with transaction.atomic():
        signup = Signup.objects.select_for_update().get(pk=signup.pk)
        if signup.status != Signup.Status.AWAITING_APPROVAL:
            raise SignupError("Only a verified sign-up that waits can be approved.")
        signup.decided_by = by
        member = _join(signup)

    context = {
        "portal": member.portal,
        "email": signup.email,
        "link": public_link(reverse("login")),
    }
    send_message("signup_approved", signup.email, context)
    return member


def reject_signup(signup: Signup, by: Member) -> None:
    if signup.status in (Signup.Status.JOINED, Signup.Status.REJECTED):
        raise SignupError("This sign-up was decided already.")
    signup.status = Signup.Status.REJECTED
    signup.decided_by = by
    signup.decided_at = timezone.now()
    signup.save(update_fields=["status", "decided_by", "decided_at"])


def _join(signup: Signup) -> Member:
    """The member of the sign-up, with a login; runs inside a transaction."""
    form = signup.form
    user = existing_login(signup.email)
    if user is None:
        user = get_user_model()(username=signup.email, email=signup.email)
        # The hash was made at sign-up; the password itself was never kept.
        user.password = signup.password_hash
        user.save()

    member, _ = Member.objects.get_or_create(
        portal_id=form.portal_id, email=signup.email
    )
    _fill_member(member, form, signup.answers)
    member.user_id = user.pk
    member.save()
    if form.group is not None:
        form.group.members.add(member)

    signup.member = member
    signup.status = Signup.Status.JOINED
    signup.decided_at = timezone.now()
    signup.save(update_fields=["member", "status", "decided_at", "decided_by"])
    logger.info("Sign-up %s joined portal %s", signup.pk, form.portal_id)
    return member


def _fill_member(member: Member, form: SignupForm, answers: dict[str, str]) -> None:
    """Map the answers onto the member's metadata and account."""
    for field, attribute in (
        ("first_name", "first_name"),
        ("last_name", "last_name"),
        ("role", "user_type"),
        ("title", "title"),
        ("region", "region"),
    ):
        if answers.get(field):
            setattr(member, attribute, answers[field][:100])
    if answers.get("company"):
        try:
            member.account, _ = account_for(
                form.portal.organization, answers["company"][:255]
            )
        except RowError:
            # A company the organization does not know yet stays an answer.
            member.attributes = {**member.attributes, "company": answers["company"]}
    for key, value in answers.items():
        if key.startswith(QUESTION_PREFIX) and value:
            question = key.removeprefix(QUESTION_PREFIX)
            member.attributes = {**member.attributes, question: value}
