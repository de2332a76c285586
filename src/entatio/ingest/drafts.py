"""A slide as made from a file, before it is stored."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from entatio.library.models import Slide


@dataclass(frozen=True)
class Picture:
    """A slide's image and thumbnail, encoded and ready to store."""

    image: bytes
    thumbnail: bytes
    width: int
    height: int
    extension: str = "jpg"


@dataclass
class SlideDraft:
    kind: str = Slide.Kind.PAGE
    picture: Picture | None = None
    title: str = ""
    description: str = ""
    text: str = ""
    notes: str = ""
    hidden: bool = False
    media: Path | None = None
    media_extension: str = ""
    duration_seconds: float | None = None


# Slides are made one at a time, so progress can be told between them.
DraftMaker = Callable[[], SlideDraft]


def first_line(text: str, limit: int = 200) -> str:
    """The first non-empty line of a text, as a suggested title."""
    for line in text.splitlines():
        if line.strip():
            return " ".join(line.split())[:limit]
    return ""


def clean_text(text: str) -> str:
    """Text as a database keeps it: no NULs or control characters, \\n lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(c for c in text if is_kept(c))
    lines = [line.rstrip() for line in kept.split("\n")]
    return "\n".join(lines).strip()


def is_kept(character: str) -> bool:
    if character in "\n\t":
        return True
    # Lone surrogates cannot be encoded for the database.
    return character >= " " and not "\ud800" <= character <= "\udfff"
