"""The ingest settings, each with the default that holds when a deployment
leaves it out of ``settings.ENTATIO``."""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "MAX_UPLOAD_BYTES": 200 << 20,
    "MAX_PAGES": 2000,
    "MAX_IMAGE_PIXELS": 100_000_000,
    "ZIP_MAX_FILES": 1000,
    "ZIP_MAX_UNCOMPRESSED_BYTES": 1 << 30,
    # Office XML compresses about 10:1 and pictures hardly at all; a member
    # a thousand times its packed size is a bomb, not a deck.
    "ZIP_MAX_RATIO": 1000,
    "VIDEO_MAX_SECONDS": 2 * 3600,
    "SLIDE_WIDTH": 1600,
    "THUMB_WIDTH": 320,
    "SOFFICE": "soffice",
    "CONVERT_TIMEOUT_SECONDS": 180,
    # Keep LibreOffice running between conversions; needs Python's uno.
    "OFFICE_WARM": True,
    # Office processes one worker process may keep; 0 means one per core.
    "OFFICE_POOL_SIZE": 0,
    # A long-running office grows; a fresh one after this many files.
    "OFFICE_MAX_CONVERSIONS": 200,
    # The Python that can import LibreOffice's uno module (python3-uno).
    "UNO_PYTHON": "/usr/bin/python3",
}


def ingest_setting(name: str) -> Any:
    """The deployment's value for this ingest setting, else its default."""
    return getattr(settings, "ENTATIO", {}).get(name, DEFAULTS[name])
