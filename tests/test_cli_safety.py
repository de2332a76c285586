"""What a careless command line must not do: leak, guess, or crash on a pipe."""

import json
import stat
import subprocess
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from entatio.engagement.models import Event
from entatio.people.directory import (
    DirectoryError,
    read_people_csv,
    read_people_text,
)
from entatio.people.models import SharingGroup
from tests.test_cli import make_deck, run, view
from tests.test_cli_process import ENTATIO, entatio, environment


def test_a_new_home_is_its_owners_alone(tmp_path):
    home = tmp_path / "home"

    listed = entatio(home, "presentations", "--json")

    assert listed.returncode == 0, listed.stderr
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "media").stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "entatio.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "secret_key").stat().st_mode) == 0o600


def test_output_cut_short_by_a_pipe_ends_quietly(tmp_path):
    home = tmp_path / "home"
    assert entatio(home, "presentations").returncode == 0

    # ``head -c 1`` reads one byte and leaves; --help is long enough to feel it.
    pipeline = subprocess.run(
        f"'{ENTATIO}' --help | head -c 1; '{ENTATIO}' presentations --json | head -c 1",
        shell=True,
        env=environment(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert "Traceback" not in pipeline.stderr
    assert "BrokenPipeError" not in pipeline.stderr


def test_share_refuses_a_group_that_lives_in_another_portal(
    capsys, portal, other_portal
):
    SharingGroup.objects.create(portal=other_portal, name="Partners")
    deck = make_deck(portal)

    status, out, err = run(capsys, "share", deck.pk, "--group", "partners")

    assert status == 2
    assert out == ""
    assert f"Group 'Partners' is in portal {other_portal.slug}" in err
    assert f"presentation {deck.pk} is in portal {portal.slug}" in err
    assert not SharingGroup.objects.filter(portal=portal).exists()


@pytest.mark.parametrize(
    "header",
    ["email,name,email", "Email,FirstName,email", "email,Notes,Notes"],
)
def test_people_csv_with_two_columns_for_one_field_is_refused(header):
    text = f"{header}\nada@globex.test,Ada,ada@other.test\n"

    with pytest.raises(DirectoryError) as refused:
        read_people_text(text, "people.csv")

    assert "people.csv has 2 columns for the same field" in str(refused.value)
    assert "keep one of them" in str(refused.value)


def test_events_load_reports_odd_lines_and_keeps_the_good_ones(
    capsys, portal, group, member, tmp_path
):
    deck = make_deck(portal)
    run(capsys, "share", deck.pk, "--group", group.name)
    slide = deck.slides.order_by("places__position").first()
    visit = str(uuid.uuid4())
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    lines = [
        json.dumps(view(member.email, slide, at, 4000, visit)),
        json.dumps({**view(member.email, slide, at, 4000, visit), "slide": 10**30}),
        "[" * 100_000 + "]" * 100_000,
        '{"id": "truncated',
        json.dumps(view(member.email, slide, at + timedelta(seconds=9), 4000, visit)),
    ]
    events = tmp_path / "events.jsonl"
    # Saved by an editor that starts UTF-8 files with a byte-order mark.
    events.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")

    status, out, _ = run(capsys, "events", "load", events, "--json")

    document = json.loads(out)
    assert status == 2  # some lines were refused
    assert document["stored"] == 2
    reasons = {error["line"]: error["reason"] for error in document["errors"]}
    assert sorted(reasons) == [2, 3, 4]
    assert "'slide' must be an id" in reasons[2]
    assert "nested too deeply" in reasons[3]
    assert "is not valid JSON" in reasons[4]
    assert Event.objects.count() == 2


def test_a_setting_that_is_no_number_is_named_not_a_traceback(tmp_path):
    home = tmp_path / "home"
    env = {**environment(home), "ENTATIO_MAX_UPLOAD_BYTES": "abc"}

    listed = subprocess.run(
        [str(ENTATIO), "presentations"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert listed.returncode == 2
    assert "Traceback" not in listed.stderr
    assert "ENTATIO_MAX_UPLOAD_BYTES must be a whole number, not 'abc'" in (
        listed.stderr
    )


@pytest.mark.parametrize(
    ("lrs", "password", "expected"),
    [
        ("notaurl", "secret", "is not a web address"),
        ("https://lrs.example.test/xapi/", "", "ENTATIO_LRS_PASSWORD is not set"),
    ],
)
def test_export_refuses_an_lrs_it_cannot_reach_before_sending(
    capsys, portal, tmp_path, monkeypatch, lrs, password, expected
):
    monkeypatch.setenv("ENTATIO_LRS_PASSWORD", password)
    out = tmp_path / "statements.jsonl"

    status, _, err = run(
        capsys, "export", "xapi", "--out", out, "--lrs", lrs, "--lrs-user", "key"
    )

    assert status == 2
    assert expected in err
    assert out.exists()


def test_import_of_a_folder_says_to_name_its_files(capsys, portal, tmp_path):
    status, _, err = run(capsys, "import", tmp_path)

    assert status == 2
    assert f"{tmp_path} is a folder; name the files in it" in err


def test_a_people_csv_in_another_encoding_says_how_to_save_it(tmp_path):
    text = "email,first_name\nada@globex.test,Ada\nzoe@globex.test,Zoë\n"
    path = tmp_path / "people.csv"
    path.write_bytes(text.encode("cp1252"))

    with pytest.raises(DirectoryError) as refused:
        list(read_people_csv(path))

    assert str(refused.value) == (
        "people.csv is not UTF-8 text; save the file as 'CSV UTF-8' and import it "
        "again."
    )
