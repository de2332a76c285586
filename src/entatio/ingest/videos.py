"""Video files as slides: kept as uploaded, with a poster frame and duration."""

import logging
import zipfile
from pathlib import Path

import av
from PIL import Image

from entatio.ingest.config import ingest_setting
from entatio.ingest.detect import EXTENSIONS, VIDEO_KINDS, Kind, detect_kind
from entatio.ingest.drafts import SlideDraft
from entatio.ingest.images import encode_picture, stem_title
from entatio.ingest.problems import SAVE_AGAIN, UnreadableFile
from entatio.library.models import Slide

logger = logging.getLogger(__name__)

# The very first frame is often black (a fade in); a second in shows what
# the video is about.
POSTER_AT_SECONDS = 1.0


def check_video(path: Path) -> None:
    """Refuse a video that cannot be read or is too long, before storing it."""
    with open_video(path) as container:
        video_duration(container)


def video_slide(path: Path, kind: Kind, name: str) -> SlideDraft:
    with open_video(path) as container:
        duration = video_duration(container)
        poster = poster_frame(container, duration)
    return SlideDraft(
        kind=Slide.Kind.VIDEO,
        picture=encode_picture(poster),
        title=stem_title(name),
        media=path,
        media_extension=EXTENSIONS[kind],
        duration_seconds=duration,
    )


def open_video(path: Path):
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError) as error:
        raise UnreadableFile("the video is damaged or cut short", SAVE_AGAIN) from error
    if not container.streams.video:
        container.close()
        raise UnreadableFile(
            "it has no picture, only sound",
            "upload a video, or make one of the sound with a still picture",
        )
    return container


def video_duration(container) -> float:
    stream = container.streams.video[0]
    if container.duration:
        seconds = container.duration / av.time_base
    elif stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    else:
        seconds = 0.0

    limit = ingest_setting("VIDEO_MAX_SECONDS")
    if seconds > limit:
        raise UnreadableFile(
            f"the video plays {seconds / 60:,.0f} minutes, longer than the limit "
            f"of {limit / 60:,.0f} minutes",
            "cut it into shorter videos",
        )
    return seconds


def poster_frame(container, duration: float) -> Image.Image:
    """An upright frame from a second in, or the last one a shorter video has."""
    at = min(POSTER_AT_SECONDS, duration / 2)
    chosen = None
    try:
        for frame in container.decode(container.streams.video[0]):
            chosen = frame
            if frame.time is None or frame.time >= at:
                break
    except (av.FFmpegError, ValueError) as error:
        if chosen is None:
            raise UnreadableFile("its video cannot be decoded", SAVE_AGAIN) from error
    if chosen is None:
        raise UnreadableFile("the video has no frames", SAVE_AGAIN)

    # Phones store portrait video sideways with a rotation to display it by;
    # a positive angle turns counter-clockwise, as PIL's rotate does.
    image = chosen.to_image()
    return image.rotate(chosen.rotation, expand=True) if chosen.rotation else image


def embedded_video(draft: SlideDraft, deck: Path, part: str, workdir: Path) -> None:
    """Make a deck's slide play the video embedded in it, when it can be played.

    The slide keeps the office's drawing as its picture, so the audience sees
    the whole slide until they start the video. A video that is too big, too
    long or unreadable leaves the slide a picture: the deck still imports.
    """
    path = workdir / f"embedded-{len(list(workdir.glob('embedded-*')))}"
    try:
        with zipfile.ZipFile(deck) as package:
            if package.getinfo(part).file_size > ingest_setting("MAX_UPLOAD_BYTES"):
                raise UnreadableFile("the embedded video is over the size limit", "")
            path.write_bytes(package.read(part))
        kind = detect_kind(path)
        if kind not in VIDEO_KINDS:
            raise UnreadableFile(f"the embedded video is {kind}, not MP4 or WebM", "")
        with open_video(path) as container:
            duration = video_duration(container)
    except (UnreadableFile, KeyError, zipfile.BadZipFile) as problem:
        logger.warning(
            "Slide %r of %s keeps its picture; its video %s cannot be played: %s",
            draft.title,
            deck.name,
            part,
            getattr(problem, "reason", problem),
        )
        return

    draft.kind = Slide.Kind.VIDEO
    draft.media = path
    draft.media_extension = EXTENSIONS[kind]
    draft.duration_seconds = duration
