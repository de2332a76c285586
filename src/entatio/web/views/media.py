"""Slide media: videos with byte ranges, and HTML slides in their sandbox.

A video is sent in the ranges a player asks for, so seeking does not wait
for the whole file. An HTML slide (a page, or a site packed in a ZIP) runs
its scripts under ``Content-Security-Policy: sandbox allow-scripts``: the
browser gives it an origin of its own, so it can reach neither the cookies
nor the pages of the application. Its responses set no cookie.

Because the sandboxed page has an origin of its own, browsers do not send
the session cookie with the requests it makes for its stylesheets, scripts
and pictures. Its path therefore carries a grant: the slide and the member,
signed and short-lived. Every request checks the grant and then the
member's access to the slide as it is now.
"""

import mimetypes
import re
import zipfile
from collections.abc import Callable
from functools import wraps
from pathlib import PurePosixPath
from typing import IO, Any

from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_safe

from entatio.engagement.access import slide_for
from entatio.library.models import Slide
from entatio.people.models import Member
from entatio.web.members import member_page

SANDBOX = "sandbox allow-scripts"
MEDIA_CACHE = "private, max-age=3600"
CHUNK = 1 << 16
SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
INDEX = "index.html"
GRANT_SALT = "entatio.web.slide-page"
# Long enough for a sitting with the slide, short enough that a copied
# address soon stops working; the viewer makes a fresh one on every load.
GRANT_SECONDS = 12 * 3600


class ByteRange:
    """The part of a file a request asks for: ``start`` to ``end`` inclusive."""

    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class Unsatisfiable(ValueError):
    """A range that lies wholly outside the file."""


def requested_range(header: str, size: int) -> ByteRange | None:
    """The one range of a ``Range`` header, or None to send the whole file.

    Several ranges, other units and malformed headers are ignored, as the
    standard allows: the whole file is a correct answer to each of them.
    """
    found = SINGLE_RANGE.match(header.strip()) if header else None
    if found is None:
        return None
    first, last = found.groups()
    if not first and not last:
        return None

    if not first:
        # "bytes=-500": the last 500 bytes.
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable(header)
        return ByteRange(max(size - suffix, 0), size - 1)

    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise Unsatisfiable(header)
    return ByteRange(start, min(end, size - 1))


class PartReader:
    """Reads ``length`` bytes of a file from where it stands; closes it."""

    def __init__(self, file: IO[bytes], length: int) -> None:
        self.file, self.left = file, length

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        wanted = self.left if size < 0 else min(size, self.left)
        data = self.file.read(wanted)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.file.close()


def ranged_response(request: HttpRequest, name: str) -> HttpResponseBase:
    """The stored file, whole (200) or the asked-for range (206), or 416."""
    try:
        size = default_storage.size(name)
        file = default_storage.open(name, "rb")
    except OSError as error:
        raise Http404("The file of this slide is missing") from error
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"

    # A range asked for "if still the same" is only safe with validators,
    # which these responses do not give: send the whole file then.
    header = "" if "If-Range" in request.headers else request.headers.get("Range", "")
    try:
        part = requested_range(header, size)
    except Unsatisfiable:
        file.close()
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused

    if part is None:
        response = FileResponse(file, content_type=content_type)
    else:
        file.seek(part.start)
        response = FileResponse(
            PartReader(file, part.length), content_type=content_type, status=206
        )
        response["Content-Range"] = f"bytes {part.start}-{part.end}/{size}"
        response["Content-Length"] = str(part.length)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = MEDIA_CACHE
    return response


def sandboxed(view: Callable[..., HttpResponseBase]) -> Callable[..., Any]:
    """Every response of an HTML slide: sandboxed, and without cookies.

    The grant, not the session, says who asks; should anything on the way
    have touched the session, its cookie is still not sent to a page that
    must have nothing of the application's.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = SANDBOX
        if hasattr(request, "session"):
            request.session.modified = False
        response.cookies.clear()
        return response

    return wrapped


@require_safe
@xframe_options_sameorigin
@member_page
def slide_media(
    request: HttpRequest, member: Member, slide_id: int
) -> HttpResponseBase:
    """A slide's media file, to members who may see the slide; ranges served."""
    slide = slide_for(member, slide_id)
    if not slide.media.name:
        raise Http404("This slide has no media")

    response = ranged_response(request, slide.media.name)
    response["Content-Security-Policy"] = SANDBOX
    return response


def page_grant(slide: Slide, member: Member) -> str:
    signer = signing.TimestampSigner(salt=GRANT_SALT)
    return signer.sign(f"{slide.pk}-{member.pk}")


def granted_member(grant: str, slide_id: int) -> Member:
    """The member a grant for this slide was made for; 404 for any other."""
    signer = signing.TimestampSigner(salt=GRANT_SALT)
    try:
        value = signer.unsign(grant, max_age=GRANT_SECONDS)
    except signing.BadSignature:
        raise Http404("No such slide") from None
    granted_slide, _, member_id = value.partition("-")
    member = None
    if granted_slide == str(slide_id) and member_id.isdigit():
        member = Member.objects.select_related("portal").filter(pk=member_id).first()
    if member is None:
        raise Http404("No such slide")
    return member


@require_safe
@sandboxed
@xframe_options_sameorigin
def slide_page(
    request: HttpRequest, slide_id: int, grant: str, path: str
) -> HttpResponseBase:
    """A file of an HTML slide: its page, or a file of its ZIP by path."""
    member = granted_member(grant, slide_id)
    slide = slide_for(member, slide_id)
    if slide.kind != Slide.Kind.HTML or not slide.media.name:
        raise Http404("This slide is not an interactive page")

    if not is_zip(slide):
        if path != INDEX:
            raise Http404("A single page has no other files")
        response = ranged_response(request, slide.media.name)
    else:
        response = zip_member_response(slide, path)
    # The grant in the address goes nowhere else.
    response["Referrer-Policy"] = "no-referrer"
    return response


def is_zip(slide: Slide) -> bool:
    return (slide.media.name or "").lower().endswith(".zip")


def page_url(slide: Slide, member: Member) -> str:
    """Where the viewer's frame opens an HTML slide for this member."""
    path = INDEX
    if is_zip(slide):
        try:
            with open_archive(slide) as archive:
                path = index_path(archive)
        except Http404:
            pass
    return reverse("slide_page", args=[slide.pk, page_grant(slide, member), path])


def open_archive(slide: Slide) -> zipfile.ZipFile:
    try:
        stored = default_storage.open(slide.media.name or "", "rb")
    except OSError as error:
        raise Http404("The file of this slide is missing") from error
    try:
        return ZipOwningFile(stored)
    except zipfile.BadZipFile as error:
        stored.close()
        raise Http404("The file of this slide is damaged") from error


class ZipOwningFile(zipfile.ZipFile):
    """A ZIP archive that closes the stored file it was opened on."""

    def __init__(self, stored: IO[bytes]) -> None:
        super().__init__(stored)
        self.stored = stored

    def close(self) -> None:
        super().close()
        self.stored.close()


def index_path(archive: zipfile.ZipFile) -> str:
    """The shallowest index.html: the site's front page."""
    pages = [n for n in archive.namelist() if PurePosixPath(n).name == INDEX]
    pages = [n for n in pages if safe_member_path(n) and "__MACOSX" not in n]
    if not pages:
        raise Http404("The site has no index.html")
    return min(pages, key=lambda name: (name.count("/"), name))


def safe_member_path(path: str) -> bool:
    """A plain relative path: no parent steps, no root, no drive, no NUL."""
    if not path or "\\" in path or "\x00" in path or path.startswith("/"):
        return False
    if re.match(r"^[A-Za-z]:", path):
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def zip_member_response(slide: Slide, path: str) -> HttpResponseBase:
    """A member of the slide's ZIP, found by exact name; never a file path.

    The name is only ever compared with the archive's own list, so no path
    of the server can be reached, whatever the request says.
    """
    if not safe_member_path(path):
        raise Http404("No such file in this slide")

    archive = open_archive(slide)
    try:
        member = archive.getinfo(path)
    except KeyError:
        archive.close()
        raise Http404("No such file in this slide") from None
    if member.is_dir() or is_link(member):
        archive.close()
        raise Http404("No such file in this slide")

    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    response = FileResponse(MemberReader(archive, member), content_type=content_type)
    response["Content-Length"] = str(member.file_size)
    response["Cache-Control"] = MEDIA_CACHE
    return response


def is_link(member: zipfile.ZipInfo) -> bool:
    return (member.external_attr >> 16) & 0o170000 == 0o120000


class MemberReader:
    """One member's bytes, read as they are sent; closes the archive after."""

    def __init__(self, archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
        self.archive = archive
        self.member = archive.open(member)

    def read(self, size: int = -1) -> bytes:
        return self.member.read(size)

    def close(self) -> None:
        self.member.close()
        self.archive.close()
