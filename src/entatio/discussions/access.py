"""Who may read and write which discussion: those who may see what it is about.

The portal comes from the presentation or post asked for, and the signed-in
user must be a member of it; past that, the engagement access functions
decide, so a discussion is visible exactly where its slide is.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from entatio.discussions.models import Post
from entatio.engagement.access import presentation_of_user
from entatio.library.models import Presentation, PresentationSlide, Slide
from entatio.people.models import Member

User = AbstractBaseUser | AnonymousUser


def slide_discussed(member: Member, presentation: Presentation, slide_id: int) -> Slide:
    """A slide shown in the presentation; hidden ones only to its authors."""
    places = PresentationSlide.objects.filter(
        presentation=presentation, slide_id=slide_id
    )
    if not member.can_author:
        places = places.filter(hidden=False)
    place = places.select_related("slide").first()
    if place is None:
        raise Http404("No such slide")
    return place.slide


def post_for(user: User, post_id: int) -> tuple[Member, Post]:
    """A post the user may read, with their member; 404 as if it did not exist."""
    post = (
        Post.objects.filter(pk=post_id)
        .select_related("presentation", "slide", "author")
        .first()
    )
    if post is None:
        raise Http404("No such post")

    member, _ = presentation_of_user(user, post.presentation_id)
    if post.slide_id is not None:
        slide_discussed(member, post.presentation, post.slide_id)
    return member, post


def require_author_of_portal(member: Member) -> None:
    if not member.can_author:
        raise PermissionDenied("Only authors of this portal may do this.")
