"""Live sessions: who presents what, which slide was on screen when, and who
was there to see it."""

from django.db import models

from entatio.library.models import Presentation, Slide
from entatio.people.models import Member, Portal


class LiveSession(models.Model):
    """A delivery of a presentation by a presenter, virtual, in person or both."""

    class Mode(models.TextChoices):
        VIRTUAL = "virtual", "Virtual"
        IN_PERSON = "in_person", "In person"
        BOTH = "both", "Virtual and in person"

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="+")
    presentation = models.ForeignKey(
        Presentation, on_delete=models.CASCADE, related_name="live_sessions"
    )
    presenter = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    mode = models.CharField(max_length=10, choices=Mode, default=Mode.VIRTUAL)
    code = models.CharField(max_length=12, unique=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["portal", "ended_at"])]

    def __str__(self) -> str:
        return f"Live {self.code}: {self.presentation_id}"

    @property
    def is_on(self) -> bool:
        return self.ended_at is None


class SlideDisplay(models.Model):
    """One stretch of time during which the presenter showed one slide."""

    session = models.ForeignKey(
        LiveSession, on_delete=models.CASCADE, related_name="displays"
    )
    slide = models.ForeignKey(Slide, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    shown_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["session", "shown_at"])]


class Presence(models.Model):
    """An attendee present in a session: one open socket, or a check-in."""

    class Way(models.TextChoices):
        ONLINE = "online", "Online"
        ON_SITE = "on_site", "On site"

    session = models.ForeignKey(
        LiveSession, on_delete=models.CASCADE, related_name="presences"
    )
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    way = models.CharField(max_length=10, choices=Way)
    # The socket's channel, so its disconnect closes this presence and no other.
    channel_name = models.CharField(max_length=200, blank=True, default="")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["session", "ended_at"]),
            models.Index(fields=["channel_name"]),
        ]
