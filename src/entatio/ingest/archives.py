"""ZIP files read safely: limits on count and size, no escaping paths or links."""

import re
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from entatio.ingest.config import ingest_setting
from entatio.ingest.problems import SAVE_AGAIN, UnreadableFile

# Files that archivers and desktops add beside the real content.
JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}


def open_zip(path: Path) -> zipfile.ZipFile:
    """The archive, checked against every limit before anything is unpacked."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise UnreadableFile("its ZIP structure is damaged", SAVE_AGAIN) from error

    try:
        check_zip_limits(archive)
    except UnreadableFile:
        archive.close()
        raise
    return archive


def check_zip_limits(archive: zipfile.ZipFile) -> None:
    members = archive.infolist()
    max_files = ingest_setting("ZIP_MAX_FILES")
    if len(members) > max_files:
        raise UnreadableFile(
            f"it holds {len(members)} files, more than the limit of {max_files}",
            "split it into smaller archives",
        )

    unpacked = sum(member.file_size for member in members)
    max_bytes = ingest_setting("ZIP_MAX_UNCOMPRESSED_BYTES")
    if unpacked > max_bytes:
        raise UnreadableFile(
            f"it would unpack to {megabytes(unpacked)}, more than the limit of "
            f"{megabytes(max_bytes)}",
            "split it into smaller archives",
        )

    for member in members:
        check_member(member)


def check_member(member: zipfile.ZipInfo) -> None:
    if escapes_archive(member.filename):
        raise UnreadableFile(
            f"it contains a path that leads outside the archive ({member.filename})",
            "pack the files again with plain relative names",
        )

    if is_link(member):
        raise UnreadableFile(
            f"it contains a link ({member.filename}) instead of a file",
            "pack the files themselves, not links to them",
        )

    # Only large members matter: a small one cannot exhaust anything.
    ratio = member.file_size / max(member.compress_size, 1)
    if member.file_size > 10 << 20 and ratio > ingest_setting("ZIP_MAX_RATIO"):
        raise UnreadableFile(
            f"it looks like a decompression bomb ({member.filename} would grow "
            f"{ratio:.0f} times when unpacked)",
            "upload the original files instead",
        )


def escapes_archive(name: str) -> bool:
    parts = re.split(r"[\\/]", name)
    absolute = name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name)
    return bool(absolute) or ".." in parts


def is_link(member: zipfile.ZipInfo) -> bool:
    mode = member.external_attr >> 16
    return stat.S_ISLNK(mode)


def is_junk(name: str) -> bool:
    """Folders and the files archivers add, such as macOS resource forks."""
    path = PurePosixPath(name)
    return (
        name.endswith("/")
        or "__MACOSX" in path.parts
        or path.name.lower() in JUNK_NAMES
        or path.name.startswith(".")
    )


def content_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The real files of the archive, in natural order of their names."""
    members = [m for m in archive.infolist() if not is_junk(m.filename)]
    return sorted(members, key=lambda member: natural_key(member.filename))


def natural_key(name: str) -> list[tuple[int, int | str]]:
    """Sort key that puts slide2 before slide10."""
    pieces = re.split(r"(\d+)", name.casefold())
    return [(0, int(p)) if p.isdigit() else (1, p) for p in pieces if p]


def extract_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, to: Path) -> Path:
    """Unpack one member to a file of our own naming inside ``to``."""
    suffix = PurePosixPath(member.filename).suffix[:10]
    target = to / f"member-{len(list(to.iterdir())) + 1}{suffix}"
    try:
        # zipfile stops at the declared size and checks the CRC, so a member
        # cannot grow past what the limits above have allowed.
        with archive.open(member) as packed, target.open("wb") as unpacked:
            shutil.copyfileobj(packed, unpacked, 1 << 20)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as error:
        raise UnreadableFile(
            f"{member.filename} inside it is damaged or packed in a way that "
            "cannot be read",
            "pack the files again with ordinary ZIP compression",
        ) from error
    return target


def megabytes(size: int) -> str:
    return f"{size / (1 << 20):,.0f} MB"
