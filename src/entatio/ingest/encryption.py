"""Password-protected files, opened once at upload into an unprotected copy.

The password is used here and dropped: the copy is what gets stored, so no
password reaches the database, the task queue or a log line.
"""

import logging
from pathlib import Path

import msoffcrypto
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from msoffcrypto.exceptions import DecryptionError, InvalidKeyError

from entatio.ingest.detect import Kind
from entatio.ingest.odf_encryption import (
    WrongPassword,
    decrypted_package,
    encrypted_parts,
)
from entatio.ingest.problems import SAVE_AGAIN, UnreadableFile

logger = logging.getLogger(__name__)


def password_needed() -> UnreadableFile:
    return UnreadableFile(
        "it is protected by a password",
        "give the password with the upload",
        needs_password=True,
    )


def password_wrong() -> UnreadableFile:
    return UnreadableFile(
        "the password given for it is not the right one",
        "check the password and upload it again",
        needs_password=True,
    )


def unprotected_copy(path: Path, kind: Kind, password: str, workdir: Path) -> Path:
    """The file itself when it needs no password, else a decrypted copy."""
    if kind is Kind.PDF:
        return unprotected_pdf(path, password, workdir)
    if kind in (Kind.ENCRYPTED_OFFICE, Kind.PPT):
        return unprotected_office_file(path, password, workdir)
    if kind is Kind.ODP:
        return unprotected_odf(path, password, workdir)
    return path


def unprotected_pdf(path: Path, password: str, workdir: Path) -> Path:
    # A PDF with an empty user password opens as it is and stays as it is.
    try:
        pdfium.PdfDocument(path).close()
        return path
    except pdfium.PdfiumError as error:
        if error.err_code != pdfium_c.FPDF_ERR_PASSWORD:
            raise damaged_pdf(error) from error

    if not password:
        raise password_needed()
    try:
        document = pdfium.PdfDocument(path, password=password)
    except pdfium.PdfiumError as error:
        if error.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise password_wrong() from None
        raise damaged_pdf(error) from error

    copy = workdir / "unprotected.pdf"
    try:
        document.save(copy, flags=pdfium_c.FPDF_REMOVE_SECURITY)
    finally:
        document.close()
    return copy


def damaged_pdf(error: Exception) -> UnreadableFile:
    return UnreadableFile(f"it is not a readable PDF ({error})", SAVE_AGAIN)


def unprotected_office_file(path: Path, password: str, workdir: Path) -> Path:
    with path.open("rb") as file:
        try:
            office_file = msoffcrypto.OfficeFile(file)
            encrypted = office_file.is_encrypted()
        except Exception as error:
            # The parser raises anything on files it does not expect; only
            # protected files must make sense to it, and a damaged
            # unprotected one is LibreOffice's to judge.
            logger.info("Encryption check skipped for %s: %r", path.name, error)
            return path
        if not encrypted:
            return path
        if not password:
            raise password_needed()
        return decrypted_copy(office_file, password, workdir)


def decrypted_copy(office_file, password: str, workdir: Path) -> Path:
    copy = workdir / "unprotected.office"
    try:
        office_file.load_key(password=password, verify_password=True)
        with copy.open("wb") as decrypted:
            office_file.decrypt(decrypted)
    except InvalidKeyError:
        raise password_wrong() from None
    except (DecryptionError, AssertionError, KeyError, ValueError) as error:
        raise UnreadableFile(
            "its password protection is of a kind that cannot be removed here",
            "save it without a password and upload it again",
        ) from error
    return copy


def unprotected_odf(path: Path, password: str, workdir: Path) -> Path:
    parts = encrypted_parts(path)
    if parts is None:
        return path
    if not password:
        raise password_needed()
    try:
        return decrypted_package(path, parts, password, workdir / "unprotected.odp")
    except WrongPassword:
        raise password_wrong() from None
