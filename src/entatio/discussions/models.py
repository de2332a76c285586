"""Discussions: threads of posts on a slide, or on a whole presentation."""

from django.db import models
from django.utils import timezone

from entatio.library.models import Presentation, Slide
from entatio.people.models import Member, Portal


class Post(models.Model):
    """One message; a reply names the post it answers, one level deep.

    The thread of a slide is every post with that presentation and slide; the
    thread of the presentation itself has no slide. A deleted post keeps its
    place, so replies to it still read in order, but loses its text.
    """

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="+")
    presentation = models.ForeignKey(
        Presentation, on_delete=models.CASCADE, related_name="posts"
    )
    slide = models.ForeignKey(
        Slide, on_delete=models.CASCADE, null=True, blank=True, related_name="posts"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    author = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="posts"
    )
    body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["presentation", "slide", "created_at"])]

    def __str__(self) -> str:
        return f"Post {self.pk} in presentation {self.presentation_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
