"""Sharing, the raw events, visits, and the activity records derived from them."""

import uuid

from django.db import models

from entatio.library.models import Presentation, Slide
from entatio.people.models import Member, Portal, SharingGroup


class Share(models.Model):
    presentation = models.ForeignKey(
        Presentation, on_delete=models.CASCADE, related_name="shares"
    )
    group = models.ForeignKey(
        SharingGroup, on_delete=models.CASCADE, related_name="shares"
    )
    shared_by = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["presentation", "group"], name="share_group_unique"
            )
        ]


class Visit(models.Model):
    """One sitting of one member with one presentation."""

    class Mode(models.TextChoices):
        SELF_PACED = "self", "Self-paced"
        LIVE = "live", "Live"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="visits")
    presentation = models.ForeignKey(
        Presentation, on_delete=models.CASCADE, related_name="visits"
    )
    mode = models.CharField(max_length=10, choices=Mode, default=Mode.SELF_PACED)
    started_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["member", "presentation", "last_activity_at"])]


class Event(models.Model):
    """One raw observation, append-only; the client's UUID makes retries safe."""

    id = models.UUIDField(primary_key=True)
    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    verb = models.CharField(max_length=40)
    slide = models.ForeignKey(
        Slide, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    presentation = models.ForeignKey(
        Presentation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    visit = models.ForeignKey(
        Visit, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    live = models.BooleanField(default=False)
    at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    statement = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["member", "slide"]),
            models.Index(fields=["at"]),
        ]


class ActivityRecord(models.Model):
    """What one member did with one slide; created when access is granted."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="records")
    slide = models.ForeignKey(Slide, on_delete=models.CASCADE, related_name="records")
    visits = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    dwell_ms = models.PositiveBigIntegerField(default=0)
    live_visits = models.PositiveIntegerField(default=0)
    self_paced_visits = models.PositiveIntegerField(default=0)
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "slide"], name="record_member_slide_unique"
            )
        ]
        indexes = [models.Index(fields=["slide", "archived"])]

    @property
    def first_view_state(self) -> str:
        return "viewed" if self.visits >= 1 else "not yet viewed"

    @property
    def return_state(self) -> str:
        return "viewed again" if self.visits >= 2 else "not yet viewed again"
