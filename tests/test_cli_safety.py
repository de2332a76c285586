"""What a careless command line must not do: leak, guess, or crash on a pipe."""

import stat
import subprocess

import pytest

from entatio.people.directory import DirectoryError, read_people_text
from entatio.people.models import SharingGroup
from tests.test_cli import make_deck, run
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
