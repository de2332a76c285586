"""Writing in discussions: post, reply, edit, delete, each checked first.

Every post and reply is also an event (verb ``commented``), so discussion
activity reaches exports and insights; the event names the post but never
holds its text, since events are kept for good and a deleted post's text must
go.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from entatio.discussions.models import Post
from entatio.engagement.activity import record_activity
from entatio.library.models import Presentation, Slide
from entatio.people.models import Member

MAX_BODY_CHARS = 5000


class PostError(ValueError):
    """A post that cannot be written, with the reason in plain words."""


def clean_body(text: str) -> str:
    body = (text or "").strip()
    if not body:
        raise PostError("Write something before posting.")
    if len(body) > MAX_BODY_CHARS:
        raise PostError(
            f"A post can be at most {MAX_BODY_CHARS:,} characters long;"
            f" this one has {len(body):,}."
        )
    return body


def start_post(
    member: Member, presentation: Presentation, slide: Slide | None, text: str
) -> Post:
    """A new post in the thread of the slide, or of the presentation."""
    body = clean_body(text)
    with transaction.atomic():
        post = Post.objects.create(
            portal_id=presentation.portal_id,
            presentation=presentation,
            slide=slide,
            author=member,
            body=body,
        )
        record_activity(
            member, "commented", presentation, slide, details={"post": post.pk}
        )
    return post


def reply_to(member: Member, parent: Post, text: str) -> Post:
    """A reply; replying to a reply answers the post that started it."""
    body = clean_body(text)
    if parent.parent is not None:
        parent = parent.parent
    if parent.is_deleted:
        raise PostError("This post was deleted; it takes no more replies.")

    with transaction.atomic():
        reply = Post.objects.create(
            portal_id=parent.portal_id,
            presentation_id=parent.presentation_id,
            slide_id=parent.slide_id,
            parent=parent,
            author=member,
            body=body,
        )
        record_activity(
            member,
            "commented",
            parent.presentation,
            parent.slide,
            details={"post": reply.pk, "reply_to": parent.pk},
        )
    return reply


def edit_post(member: Member, post: Post, text: str) -> Post:
    """Change the text of one's own post."""
    if post.author_id != member.pk:
        raise PermissionDenied("Only the writer of a post may edit it.")
    if post.is_deleted:
        raise PostError("A deleted post cannot be edited.")

    post.body = clean_body(text)
    post.edited_at = timezone.now()
    post.save(update_fields=["body", "edited_at"])
    return post


def delete_post(member: Member, post: Post) -> Post:
    """Remove the text of a post; its writer or the portal's authors may."""
    if post.author_id != member.pk and not member.can_author:
        raise PermissionDenied("Only the writer of a post or an author may delete it.")
    if post.is_deleted:
        return post

    post.body = ""
    post.deleted_at = timezone.now()
    post.deleted_by = member
    post.save(update_fields=["body", "deleted_at", "deleted_by"])
    return post
