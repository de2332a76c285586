"""Topics of slides, management's goals and their snapshots, and schedules."""

from django.db import models

from entatio.library.models import Slide
from entatio.people.models import Member, Organization


class Topic(models.Model):
    """A type of information; suggested by the topic model or made by a person."""

    class Origin(models.TextChoices):
        SUGGESTED = "suggested", "Suggested"
        AUTHOR = "author", "Made by an author"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="topics"
    )
    label = models.CharField(max_length=120)
    origin = models.CharField(max_length=20, choices=Origin, default=Origin.AUTHOR)
    # The suggested label is replaced on every new suggestion until a person
    # edits it; from then on the person's label stays.
    label_edited = models.BooleanField(default=False)
    terms = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label", "pk"]

    def __str__(self) -> str:
        return self.label


class SlideTopic(models.Model):
    """A topic on a slide: an author's tag, or a suggestion with its weight."""

    class Origin(models.TextChoices):
        SUGGESTED = "suggested", "Suggested"
        AUTHOR = "author", "Tagged by an author"

    slide = models.ForeignKey(Slide, on_delete=models.CASCADE, related_name="topics")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="slides")
    origin = models.CharField(max_length=20, choices=Origin)
    weight = models.FloatField(default=1.0)
    tagged_by = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["slide", "topic", "origin"], name="slide_topic_unique"
            )
        ]
        indexes = [models.Index(fields=["topic", "origin"])]


class Goal(models.Model):
    """A metric management wants to reach by a date, e.g. admins reached.

    The metric is the share of members (or of accounts, where at least one
    member counts) with access to the topic who reached it; person and
    account filters narrow who is counted.
    """

    class Measure(models.TextChoices):
        REACH = "reach", "Saw at least one slide"
        RETURN = "return", "Came back in a second visit"

    class Unit(models.TextChoices):
        MEMBERS = "members", "Members"
        ACCOUNTS = "accounts", "Accounts"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="goals"
    )
    name = models.CharField(max_length=200)
    measure = models.CharField(max_length=20, choices=Measure, default=Measure.REACH)
    unit = models.CharField(max_length=20, choices=Unit, default=Unit.MEMBERS)
    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, null=True, blank=True, related_name="goals"
    )
    person_field = models.CharField(max_length=100, blank=True, default="")
    person_value = models.CharField(max_length=200, blank=True, default="")
    account_field = models.CharField(max_length=100, blank=True, default="")
    account_value = models.CharField(max_length=200, blank=True, default="")
    target = models.FloatField(help_text="A share between 0 and 1.")
    due = models.DateField()
    created_by = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due", "pk"]

    def __str__(self) -> str:
        return self.name


class GoalSnapshot(models.Model):
    """The goal's metric as measured on one day."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="snapshots")
    taken_on = models.DateField()
    value = models.FloatField()
    reached = models.PositiveIntegerField()
    counted = models.PositiveIntegerField()

    class Meta:
        ordering = ["taken_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["goal", "taken_on"], name="goal_snapshot_day_unique"
            )
        ]


class Schedule(models.Model):
    """Per organization and job: the live chain of its scheduled runs.

    A run whose chain token is no longer the current one ends without
    running, so starting a new chain retires the old one.
    """

    class Job(models.TextChoices):
        COPY = "copy", "Refresh the columnar copy"
        GOALS = "goals", "Take the goals' snapshots"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="insights_schedules"
    )
    job = models.CharField(max_length=20, choices=Job)
    chain_token = models.CharField(max_length=32, blank=True, default="")
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "job"], name="insights_schedule_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.job}"
