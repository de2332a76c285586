"""What discussions keep of a person: handed over with their data, erased with it."""

from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from entatio.discussions.models import Post
from entatio.people.models import Member
from entatio.people.signals import member_data_requested, member_erased


@receiver(member_data_requested)
def posts_of_member(sender: object, member: Member, **_: object) -> dict[str, Any]:
    posts = Post.objects.filter(author=member).order_by("created_at", "pk")
    return {
        "posts": [
            {
                "id": post.pk,
                "presentation": post.presentation_id,
                "slide": post.slide_id,
                "reply_to": post.parent_id,
                "body": post.body,
                "created_at": post.created_at.isoformat(),
                "edited_at": post.edited_at.isoformat() if post.edited_at else None,
                "deleted": post.is_deleted,
            }
            for post in posts
        ]
    }


@receiver(member_erased)
def erase_posts_of_member(sender: object, member: Member, **_: object) -> None:
    # What a person wrote is theirs; the place in the thread stays so that
    # the replies of others still read in order.
    now = timezone.now()
    Post.objects.filter(author=member, deleted_at=None).update(deleted_at=now)
    Post.objects.filter(author=member).update(body="", edited_at=None)
