"""An ODP saved with a password by LibreOffice imports once the password is given."""

import subprocess
import zipfile
from pathlib import Path

import pytest

from entatio.ingest.config import ingest_setting
from entatio.ingest.imports import ImportRefused, start_import
from entatio.ingest.odf_encryption import encrypted_parts
from entatio.ingest.office_pool import uno_is_available
from entatio.library.models import Slide, Source
from tests.shared import corpus_dir

pytestmark = [
    pytest.mark.soffice,
    pytest.mark.skipif(not uno_is_available(), reason="python3-uno is not installed"),
]

PROTECT = Path(__file__).with_name("office_protect.py")


@pytest.fixture(scope="module")
def protected_odp(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("protected")
    target = folder / "protected.odp"
    subprocess.run(
        [
            ingest_setting("UNO_PYTHON"),
            str(PROTECT),
            str(corpus_dir() / "odp-libreoffice-13.odp"),
            str(target),
            "open sesame",
            "impress8",
            str(folder / "profile"),
        ],
        check=True,
        timeout=180,
        capture_output=True,
    )
    assert encrypted_parts(target), "LibreOffice wrote no encrypted parts"
    return target


def test_without_its_password_it_asks_for_one(protected_odp, portal):
    with pytest.raises(ImportRefused) as refusal:
        start_import(portal, protected_odp, "protected.odp")

    assert refusal.value.needs_password
    assert "protected.odp" in str(refusal.value)
    assert "password" in str(refusal.value)
    assert Source.objects.count() == Slide.objects.count() == 0


def test_a_wrong_password_is_told_apart(protected_odp, portal):
    with pytest.raises(ImportRefused) as refusal:
        start_import(portal, protected_odp, "protected.odp", password="sesame")

    assert refusal.value.needs_password
    assert "not the right one" in str(refusal.value)
    assert Source.objects.count() == 0


def test_with_its_password_it_reads_as_the_unprotected_deck(protected_odp, portal):
    plain = start_import(portal, corpus_dir() / "odp-libreoffice-13.odp", "plain.odp")
    protected = start_import(
        portal, protected_odp, "protected.odp", password="open sesame"
    )

    protected.refresh_from_db()
    assert protected.status == Source.Status.READY, protected.error
    plain_slides = list(plain.slides.order_by("index_in_source"))
    protected_slides = list(protected.slides.order_by("index_in_source"))
    assert len(protected_slides) == len(plain_slides) >= 1
    for mine, theirs in zip(protected_slides, plain_slides, strict=True):
        assert (mine.title, mine.text, mine.notes) == (
            theirs.title,
            theirs.text,
            theirs.notes,
        )
    # What is stored is the unprotected copy: no password is kept anywhere.
    with protected.file.open("rb") as stored, zipfile.ZipFile(stored) as package:
        assert b"encryption-data" not in package.read("META-INF/manifest.xml")
        assert b"<office:document-content" in package.read("content.xml")
