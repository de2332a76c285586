"""Sources, the slides cut from them, and presentations that order slides."""

from django.db import models

from entatio.people.models import Member, Portal


class Source(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="sources")
    uploaded_by = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True
    )
    file = models.FileField(upload_to="sources/%Y/%m/")
    original_name = models.CharField(max_length=255)
    title = models.CharField(
        max_length=300,
        blank=True,
        default="",
        help_text="The presentation title asked for at upload; empty for the name.",
    )
    content_hash = models.CharField(max_length=64, db_index=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    kind = models.CharField(max_length=20, blank=True, default="")
    status = models.CharField(max_length=20, choices=Status, default=Status.PENDING)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Moves with every progress step, so an import whose worker died shows
    # as stalled instead of processing for ever.
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.original_name


class Slide(models.Model):
    class Kind(models.TextChoices):
        PAGE = "page", "Page"
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"
        HTML = "html", "HTML"
        TEXT = "text", "Text card"

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="slides")
    source = models.ForeignKey(
        Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="slides"
    )
    index_in_source = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.PAGE)
    title = models.CharField(max_length=300, blank=True, default="")
    description = models.TextField(blank=True, default="")
    text = models.TextField(blank=True, default="")
    notes = models.TextField(blank=True, default="")
    hidden = models.BooleanField(default=False)
    image = models.FileField(upload_to="slides/%Y/%m/", blank=True, default="")
    thumbnail = models.FileField(upload_to="thumbs/%Y/%m/", blank=True, default="")
    media = models.FileField(upload_to="media/%Y/%m/", blank=True, default="")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    duration_seconds = models.FloatField(
        null=True, blank=True, help_text="Playing time of a video slide."
    )
    copied_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="copies"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source_id", "index_in_source", "id"]

    def __str__(self) -> str:
        return self.title or f"Slide {self.index_in_source + 1}"


class Presentation(models.Model):
    portal = models.ForeignKey(
        Portal, on_delete=models.CASCADE, related_name="presentations"
    )
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True
    )
    source = models.ForeignKey(
        Source,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="presentations",
        help_text="The upload this presentation was made from, if any.",
    )
    downloadable = models.BooleanField(
        default=False,
        help_text="Members who see it may download the original file and a PDF.",
    )
    slides = models.ManyToManyField(
        Slide, through="PresentationSlide", related_name="presentations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class PresentationSlide(models.Model):
    """A slide's place in a presentation; hidden places are not shown."""

    presentation = models.ForeignKey(
        Presentation, on_delete=models.CASCADE, related_name="places"
    )
    slide = models.ForeignKey(Slide, on_delete=models.CASCADE, related_name="places")
    position = models.PositiveIntegerField()
    hidden = models.BooleanField(default=False)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["presentation", "slide"], name="place_slide_unique"
            )
        ]
