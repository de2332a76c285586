"""Pages of people: members and roles, groups, invitations, sign-up forms."""

from django.urls import path

from entatio.web.views import groups, invites, portals, signup

GROUP = "groups/<int:group_id>/"

urlpatterns = [
    path("members/", portals.members, name="portal_members"),
    path("members/<int:member_id>/role/", portals.set_role, name="set_role"),
    path("portals/new/", portals.new_portal, name="new_portal"),
    path("groups/", groups.groups, name="groups"),
    path("groups/new/", groups.new_group, name="new_group"),
    path(GROUP, groups.group, name="group"),
    path(GROUP + "name/", groups.rename, name="rename_group"),
    path(GROUP + "add/", groups.add, name="add_group_members"),
    path(GROUP + "remove/", groups.remove, name="remove_group_members"),
    path("invitations/", invites.invites, name="invites"),
    path("invitations/preview/", invites.invite_preview, name="invite_preview"),
    path("invitations/send/", invites.send_invites, name="send_invites"),
    path(
        "invitations/<int:invitation_id>/resend/",
        invites.resend_invite,
        name="resend_invite",
    ),
    path(
        "invitations/<int:invitation_id>/revoke/",
        invites.revoke_invite,
        name="revoke_invite",
    ),
    path("invitation/<str:token>/", invites.accept, name="accept_invitation"),
    path("signup-forms/", signup.signup_forms, name="signup_forms"),
    path("signup-forms/new/", signup.new_signup_form, name="new_signup_form"),
    path(
        "signup-forms/<int:form_id>/open/",
        signup.open_or_close,
        name="open_signup_form",
    ),
    path(
        "signups/<int:signup_id>/decision/",
        signup.decide_signup,
        name="decide_signup",
    ),
    path("join/verify/<str:token>/", signup.verify, name="verify_signup"),
    path("join/<str:key>/", signup.signup, name="signup"),
]
