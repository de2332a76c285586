"""What ingest keeps for itself: office files already converted, by content."""

from django.db import models


class ConvertedDeck(models.Model):
    """LibreOffice's PDF of an office file, so the same file converts once.

    Keyed by the SHA-256 of the stored file: the same bytes uploaded again,
    to any portal, make the same pages.
    """

    content_hash = models.CharField(max_length=64, unique=True)
    pdf = models.FileField(upload_to="converted/%Y/%m/")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.content_hash
