"""``entatio import`` on real files, in-process; the demo is in test_demo.py."""

import json

import pytest
from PIL import Image

from entatio.cli.main import main
from entatio.demo.decks import DECKS, write_deck
from entatio.library.models import Presentation, Slide, Source
from tests.shared import corpus_dir, corpus_manifest


def run(capsys, *argv) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def corpus_rows(wanted) -> list[dict[str, str]]:
    try:
        return [row for row in corpus_manifest() if wanted(row)]
    except pytest.skip.Exception:
        return []


def test_import_of_a_pdf_prints_every_slide_with_text_and_image(
    capsys, settings, portal
):
    # No worker takes the queued import: the command makes the slides itself.
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }
    pdf = corpus_dir() / "pdf-tracemonkey-14p.pdf"

    status, out, err = run(
        capsys,
        "import",
        pdf,
        "--portal",
        "customers",
        "--title",
        "Trace trees",
        "--json",
    )

    assert status == 0, err
    document = json.loads(out)
    assert document["refused"] == []
    [presentation] = document["presentations"]
    assert presentation["title"] == "Trace trees"
    assert Presentation.objects.get(pk=presentation["id"]).portal == portal
    slides = presentation["slides"]
    assert [s["position"] for s in slides] == list(range(1, 15))
    assert {s["kind"] for s in slides} == {"page"}
    assert "Trace" in slides[0]["text"]
    with Image.open(slides[0]["image"]) as image:
        assert image.width == 1600
    assert (
        slides[0]["id"]
        == Slide.objects.get(source__original_name=pdf.name, index_in_source=0).pk
    )
    # Progress went to stderr, never into the JSON on stdout.
    assert "14/14 slides" in err


@pytest.mark.soffice
def test_import_of_a_generated_deck_keeps_titles_notes_and_the_hidden_slide(
    capsys, portal, tmp_path
):
    deck = write_deck(DECKS[0], tmp_path)

    status, out, err = run(capsys, "import", deck, "--json")

    assert status == 0, err
    slides = json.loads(out)["presentations"][0]["slides"]
    assert [s["title"] for s in slides] == [
        "Getting started with Northwind Cloud",
        "Your first week",
        "Connecting your data",
        "Dashboards that answer questions",
        "Internal: pricing guidance",
        "Where to get help",
    ]
    assert [s["hidden"] for s in slides] == [False] * 4 + [True, False]
    assert slides[1]["notes"].startswith("Walk through the checklist")
    assert "Invite your team" in slides[1]["text"]


def test_import_of_missing_files_changes_nothing(capsys, portal, tmp_path):
    status, out, err = run(capsys, "import", tmp_path / "absent.pdf")

    assert (status, out) == (2, "")
    assert err == (
        f"entatio: There is no file {tmp_path / 'absent.pdf'}; "
        "check the name and path.\n"
    )
    assert Source.objects.count() == 0


def test_one_title_for_several_files_is_refused(capsys, portal):
    pdf = corpus_dir() / "pdf-tracemonkey-14p.pdf"

    status, _, err = run(capsys, "import", pdf, pdf, "--title", "Both")

    assert status == 2
    assert "--title names one presentation" in err
    assert Source.objects.count() == 0


@pytest.mark.soffice
@pytest.mark.parametrize(
    "row",
    corpus_rows(lambda row: row["slides"] == "refuse"),
    ids=lambda row: row["file"],
)
def test_a_refused_corpus_file_exits_2_naming_it_and_leaves_nothing(
    capsys, portal, row
):
    status, out, err = run(capsys, "import", corpus_dir() / row["file"], "--json")

    assert status == 2
    assert json.loads(out)["presentations"] == []
    assert err.startswith(f"entatio: {row['file']} cannot be imported because ")
    assert Slide.objects.count() == 0
    assert Presentation.objects.count() == 0


@pytest.mark.soffice
@pytest.mark.parametrize(
    "row", corpus_rows(lambda row: bool(row["password"])), ids=lambda row: row["file"]
)
def test_a_protected_corpus_file_asks_for_its_password(capsys, portal, row):
    path = corpus_dir() / row["file"]

    status, out, err = run(capsys, "import", path, "--json")

    assert status == 2
    assert json.loads(out)["refused"][0]["needs_password"] is True
    assert "password" in err and "--password" in err
    assert Presentation.objects.count() == 0

    status, out, err = run(
        capsys, "import", path, "--password", row["password"], "--json"
    )

    assert status == 0, err
    [presentation] = json.loads(out)["presentations"]
    assert len(presentation["slides"]) == int(row["slides"])
