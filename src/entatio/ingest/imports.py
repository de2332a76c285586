"""Files to slides: quick checks and storing at upload, the slow work in a task.

``start_import`` refuses at once what is surely unusable (empty, too large,
of an unknown type, protected without the right password), stores the file
and queues ``ingest_source``, which makes the slides and then the
presentation, or on any failure leaves nothing half made.
"""

import hashlib
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from functools import partial
from pathlib import Path

from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import get_valid_filename

from entatio.ingest.archives import megabytes
from entatio.ingest.checks import check_file
from entatio.ingest.config import ingest_setting
from entatio.ingest.detect import EXTENSIONS, Kind, detect_kind
from entatio.ingest.drafts import SlideDraft
from entatio.ingest.encryption import unprotected_copy
from entatio.ingest.plans import plan_slides
from entatio.ingest.problems import UnreadableFile
from entatio.library.editing import presentation_from_source
from entatio.library.models import Presentation, Slide, Source
from entatio.people.models import Member, Portal

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
UploadedFile = File | Path


class ImportRefused(Exception):
    """A file that cannot be imported; str() names it, says why and what to do."""

    def __init__(self, message: str, *, needs_password: bool = False):
        super().__init__(message)
        self.needs_password = needs_password


def start_import(
    portal: Portal,
    file: UploadedFile,
    original_name: str,
    *,
    uploaded_by: Member | None = None,
    title: str = "",
    password: str = "",
) -> Source:
    """Check and store an upload, and queue the making of its slides."""
    name = display_name(original_name)
    with tempfile.TemporaryDirectory(prefix="entatio-upload-") as workdir:
        try:
            path, kind = checked_upload(file, Path(workdir), password)
        except UnreadableFile as problem:
            logger.info(
                "Upload of %s refused: %s",
                name,
                problem.reason,
                extra={"portal_id": portal.pk},
            )
            refusal = ImportRefused(
                problem.sentence(name), needs_password=problem.needs_password
            )
            raise refusal from problem

        return store_source(portal, path, kind, name, uploaded_by, title)


def checked_upload(
    file: UploadedFile, workdir: Path, password: str
) -> tuple[Path, Kind]:
    """The upload in ``workdir``, unprotected, of a known kind, passing quick checks."""
    received = receive(file, workdir / "received")
    kind = detect_kind(received)

    # Decrypted here, while the password is at hand; it is not kept.
    path = unprotected_copy(received, kind, password, workdir)
    if path != received:
        kind = detect_kind(path)

    check_file(path, kind)
    return path, kind


def receive(file: UploadedFile, target: Path) -> Path:
    """A private copy of the upload, refused when empty or over the size limit."""
    limit = ingest_setting("MAX_UPLOAD_BYTES")
    size = 0
    with target.open("wb") as copy:
        for chunk in upload_chunks(file):
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            copy.write(chunk)

    if size == 0:
        raise UnreadableFile("it is empty", "upload the file again")
    return target


def upload_chunks(file: UploadedFile):
    if isinstance(file, os.PathLike):
        with open(file, "rb") as opened:
            yield from iter(partial(opened.read, 1 << 20), b"")
    else:
        yield from file.chunks()


def too_large(limit: int) -> UnreadableFile:
    return UnreadableFile(
        f"it is larger than the limit of {megabytes(limit)}",
        "make it smaller or split it, then upload it again",
    )


def display_name(original_name: str) -> str:
    """The file's own name, without any folders a browser or path put before it."""
    name = re.split(r"[\\/]", original_name or "")[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[:255] or "the file"


def store_source(
    portal: Portal,
    path: Path,
    kind: Kind,
    name: str,
    uploaded_by: Member | None,
    title: str,
) -> Source:
    digest, size = sha256_and_size(path)
    source = Source(
        portal=portal,
        uploaded_by=uploaded_by,
        original_name=name,
        title=title.strip()[:300],
        content_hash=digest,
        size_bytes=size,
        kind=kind.value,
    )
    with path.open("rb") as content:
        source.file.save(stored_name(name, kind), File(content), save=False)

    try:
        with transaction.atomic():
            source.save()
    except BaseException:
        source.file.delete(save=False)
        raise

    transaction.on_commit(partial(enqueue_ingest, source.pk))
    return source


def enqueue_ingest(source_id: int) -> None:
    from entatio.ingest.tasks import ingest_source_task

    ingest_source_task.enqueue(source_id)


def sha256_and_size(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(partial(file.read, 1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest(), path.stat().st_size


def stored_name(name: str, kind: Kind) -> str:
    """A safe storage name with the extension of what the file really is."""
    try:
        stem = get_valid_filename(Path(name).stem)[:80]
    except SuspiciousFileOperation:
        stem = ""
    return f"{stem or 'upload'}.{EXTENSIONS[kind]}"


def ingest_source(
    source: Source, on_progress: ProgressCallback | None = None
) -> Presentation:
    """Make the source's slides and presentation, or wait for whoever is making them."""
    while not claim(source):
        source.refresh_from_db()
        if source.status == Source.Status.READY:
            return made_presentation(source)
        if source.status == Source.Status.FAILED:
            raise ImportRefused(source.error)
        if on_progress is not None and source.progress_total:
            on_progress(source.progress_done, source.progress_total)
        # Another worker holds it; its progress shows in the row.
        time.sleep(0.5)

    return ingest_claimed_source(source, on_progress)


def claim(source: Source) -> bool:
    """Take the source for this run: waiting, or left behind by a dead worker."""
    now = timezone.now()
    stalled_before = now - timedelta(seconds=stall_seconds())
    claimed = (
        Source.objects.filter(pk=source.pk)
        .filter(
            Q(status=Source.Status.PENDING)
            | Q(status=Source.Status.PROCESSING, updated_at__lt=stalled_before)
        )
        .update(
            status=Source.Status.PROCESSING,
            progress_done=0,
            progress_total=0,
            error="",
            updated_at=now,
        )
    )
    if claimed:
        source.refresh_from_db()
    return bool(claimed)


def stall_seconds() -> float:
    # The longest quiet stretch of a live run is one conversion.
    return 2 * ingest_setting("CONVERT_TIMEOUT_SECONDS") + 60


def made_presentation(source: Source) -> Presentation:
    presentation = source.presentations.order_by("created_at").first()
    if presentation is None:
        raise ImportRefused(
            f"{source.original_name} was imported, but its presentation has been "
            "deleted; upload the file again."
        )
    return presentation


def ingest_claimed_source(
    source: Source, on_progress: ProgressCallback | None
) -> Presentation:
    # Slides of a run that died on this source are half made: gone first.
    delete_slides(list(source.slides.all()))
    made: list[Slide] = []
    try:
        return make_presentation(source, made, on_progress)
    except UnreadableFile as problem:
        message = problem.sentence(source.original_name)
        raise fail(source, made, message, problem) from problem
    except Exception as error:
        logger.exception(
            "Import of source %s broke on an unexpected error",
            source.pk,
            extra={"source_id": source.pk},
        )
        message = (
            f"{source.original_name} could not be imported because of an "
            f"unexpected error ({type(error).__name__}); try again later, and tell "
            "the operators if it happens again."
        )
        raise fail(source, made, message, error) from error


def make_presentation(
    source: Source, made: list[Slide], on_progress: ProgressCallback | None
) -> Presentation:
    with tempfile.TemporaryDirectory(prefix="entatio-ingest-") as folder:
        workdir = Path(folder)
        path = fetch_stored_file(source, workdir)
        with ExitStack() as stack:
            makers = plan_slides(
                path,
                Kind(source.kind),
                source.original_name,
                source.content_hash,
                workdir,
                stack,
            )
            tell_progress(source, 0, len(makers))
            for index, make in enumerate(makers):
                made.append(store_slide(source, index, make()))
                tell_progress(source, index + 1, len(makers))
                if on_progress is not None:
                    on_progress(index + 1, len(makers))

    with transaction.atomic():
        presentation = presentation_from_source(
            source, source.title, source.uploaded_by
        )
        finish(source, Source.Status.READY)
    return presentation


def fetch_stored_file(source: Source, workdir: Path) -> Path:
    """A local copy of the stored file, under the extension of its kind."""
    path = workdir / f"source.{EXTENSIONS[Kind(source.kind)]}"
    with source.file.open("rb") as stored, path.open("wb") as copy:
        shutil.copyfileobj(stored, copy, 1 << 20)
    return path


def tell_progress(source: Source, done: int, total: int) -> None:
    Source.objects.filter(pk=source.pk).update(
        progress_done=done, progress_total=total, updated_at=timezone.now()
    )
    source.progress_done, source.progress_total = done, total


def store_slide(source: Source, index: int, draft: SlideDraft) -> Slide:
    slide = Slide(
        portal_id=source.portal_id,
        source=source,
        index_in_source=index,
        kind=draft.kind,
        title=draft.title[:300],
        description=draft.description,
        text=draft.text,
        notes=draft.notes,
        hidden=draft.hidden,
        duration_seconds=draft.duration_seconds,
    )
    stem = f"{source.pk}-{index + 1}"
    try:
        save_slide_files(slide, draft, stem)
        slide.save()
    except BaseException:
        delete_slide_files(slide)
        raise
    return slide


def save_slide_files(slide: Slide, draft: SlideDraft, stem: str) -> None:
    picture = draft.picture
    if picture is not None:
        name = f"{stem}.{picture.extension}"
        slide.image.save(name, ContentFile(picture.image), save=False)
        slide.thumbnail.save(name, ContentFile(picture.thumbnail), save=False)
        slide.width, slide.height = picture.width, picture.height

    if draft.media is not None:
        with draft.media.open("rb") as media:
            name = f"{stem}.{draft.media_extension}"
            slide.media.save(name, File(media), save=False)


def delete_slides(slides: list[Slide]) -> None:
    for slide in slides:
        delete_slide_files(slide)
    Slide.objects.filter(pk__in=[s.pk for s in slides if s.pk]).delete()


def delete_slide_files(slide: Slide) -> None:
    for field in (slide.image, slide.thumbnail, slide.media):
        if field.name:
            field.storage.delete(field.name)


def fail(
    source: Source, made: list[Slide], message: str, error: Exception
) -> ImportRefused:
    """Undo the slides made, mark the source failed, and say why."""
    delete_slides(made)
    made.clear()
    finish(source, Source.Status.FAILED, message)

    logger.warning(
        "Import of source %s (%s) failed: %s",
        source.pk,
        source.kind,
        message,
        extra={"source_id": source.pk, "portal_id": source.portal_id},
    )
    needs_password = getattr(error, "needs_password", False)
    return ImportRefused(message, needs_password=needs_password)


def finish(source: Source, status: str, error: str = "") -> None:
    now = timezone.now()
    Source.objects.filter(pk=source.pk).update(
        status=status, error=error, finished_at=now, updated_at=now
    )
    source.status, source.error, source.finished_at = status, error, now


def resume_stalled_imports() -> int:
    """Queue again the sources no worker is making.

    Run when a server starts, and every few minutes while it runs
    (``entatio.ingest.tasks.watch_stalled_imports_task``).
    """
    stalled_before = timezone.now() - timedelta(seconds=stall_seconds())
    stalled = set(
        Source.objects.filter(
            Q(status=Source.Status.PENDING) | Q(status=Source.Status.PROCESSING),
            updated_at__lt=stalled_before,
        ).values_list("pk", flat=True)
    )

    # A source still waiting in the queue behind long imports is not lost;
    # queueing it again at every watch would only fill the queue.
    stalled -= sources_waiting_in_queue()
    for source_id in sorted(stalled):
        enqueue_ingest(source_id)
    return len(stalled)


def sources_waiting_in_queue() -> set[int]:
    """Sources whose ingest task is queued and not yet taken by a worker."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    from entatio.ingest.tasks import ingest_source_task

    if not isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
        return set()
    waiting = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=ingest_source_task.module_path
    ).values_list("args_kwargs", flat=True)
    return {arguments["args"][0] for arguments in waiting if arguments["args"]}
