"""The command line, called in-process through its console entry point."""

import argparse
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from entatio.cli.commands import build_parser, handler_of
from entatio.cli.main import main
from entatio.engagement.models import ActivityRecord, Event
from entatio.library.models import Presentation, PresentationSlide, Slide
from entatio.people.models import Member, Portal, SharingGroup

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def run_json(capsys, *argv: str) -> dict:
    status, out, err = run(capsys, *argv, "--json")
    assert status == 0, err
    return json.loads(out)


def make_deck(portal: Portal, titles=("Welcome", "Pricing", "Roadmap")) -> Presentation:
    presentation = Presentation.objects.create(portal=portal, title="Quarterly review")
    for position, title in enumerate(titles):
        slide = Slide.objects.create(
            portal=portal, title=title, text=f"{title} text", index_in_source=position
        )
        slide.image.save(f"s{position}.png", ContentFile(b"\x89PNG fake"), save=True)
        PresentationSlide.objects.create(
            presentation=presentation, slide=slide, position=position
        )
    return presentation


def view(email: str, slide: Slide, at: datetime, ms: int, visit: str) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "member": email,
        "slide": slide.pk,
        "verb": "viewed",
        "at": at.isoformat(),
        "duration_ms": ms,
        "visit": visit,
    }


def write_lines(path: Path, lines: list) -> Path:
    path.write_text(
        "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines),
        encoding="utf-8",
    )
    return path


def test_help_and_bad_arguments(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    assert "presentations" in out and "events" in out

    status, _, err = run(capsys, "slides")
    assert status == 2
    assert "the following arguments are required: PRESENTATION" in err


def test_records_wants_an_id_or_rebuild(capsys, db):
    status, _, err = run(capsys, "records", "seven")
    assert status == 2
    assert "'seven' is neither a presentation id nor 'rebuild'" in err


def test_presentations_lists_the_portal_with_counts_and_shares(capsys, portal, group):
    deck = make_deck(portal)
    PresentationSlide.objects.filter(presentation=deck, position=2).update(hidden=True)
    run(capsys, "share", deck.pk, "--group", group.name)

    document = run_json(capsys, "presentations", "--portal", "customers")

    assert document["portal"] == "customers"
    [listed] = document["presentations"]
    assert listed["id"] == deck.pk
    assert listed["title"] == "Quarterly review"
    assert (listed["slides"], listed["hidden_slides"]) == (2, 1)
    assert listed["shared_with"] == ["Globex admins"]


def test_slides_prints_each_slide_with_its_image_file(capsys, portal):
    deck = make_deck(portal)

    document = run_json(capsys, "slides", deck.pk)

    assert document["id"] == deck.pk
    assert [s["title"] for s in document["slides"]] == ["Welcome", "Pricing", "Roadmap"]
    first = document["slides"][0]
    assert first["position"] == 1
    assert first["kind"] == "page"
    assert first["text"] == "Welcome text"
    assert Path(first["image"]).is_absolute()
    assert Path(first["image"]).read_bytes() == b"\x89PNG fake"


def test_unknown_presentation_and_portal_are_errors_that_say_what_to_do(capsys, portal):
    status, out, err = run(capsys, "slides", "999999")
    assert (status, out) == (2, "")
    assert err == (
        "entatio: There is no presentation 999999; "
        "'entatio presentations' lists them.\n"
    )

    status, _, err = run(capsys, "presentations", "--portal", "nowhere")
    assert status == 2
    assert "There is no portal 'nowhere'; use one of: customers" in err


def test_default_portal_is_made_on_first_use(capsys, transactional_db):
    document = run_json(capsys, "presentations")

    assert document == {"portal": "main", "presentations": []}
    assert Portal.objects.get().organization.slug == "default"


def test_people_import_reports_bad_rows_and_keeps_good_ones(capsys, portal, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text(
        "email,first_name,user_type,account\n"
        "ada@globex.test,Ada,admin,Globex\n"
        "nobody,No,admin,Globex\n"
        "bob@initech.test,Bob,developer,Initech\n",
        encoding="utf-8",
    )

    status, out, err = run(
        capsys, "people", "import", people, "--group", "Pilot", "--json"
    )

    assert status == 2
    document = json.loads(out)
    assert document["created"] == 2
    assert document["group"] == "Pilot"
    assert sorted(document["accounts_created"]) == ["Globex", "Initech"]
    assert document["errors"] == [
        {"line": 3, "reason": "has an invalid e-mail address 'nobody'"}
    ]
    assert "people.csv line 3 has an invalid e-mail address 'nobody'" in err
    pilot = SharingGroup.objects.get(portal=portal, name="Pilot")
    assert pilot.members.count() == 2

    status, out, _ = run(capsys, "people", "import", people, "--json")
    assert json.loads(out)["unchanged"] == 2


def test_people_import_of_a_missing_file(capsys, portal):
    status, out, err = run(capsys, "people", "import", "/nonexistent/people.csv")

    assert (status, out) == (2, "")
    assert "There is no file /nonexistent/people.csv" in err


def test_share_makes_the_records_before_it_returns(capsys, settings, portal, member):
    # A queue nobody works: only the command's own sync can make the records.
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }
    deck = make_deck(portal)
    colleague = Member.objects.create(portal=portal, email="cy@globex.test")
    SharingGroup.objects.create(portal=portal, name="Globex").members.add(
        member, colleague
    )

    document = run_json(capsys, "share", deck.pk, "--group", "globex")

    assert document["group"] == "Globex"
    assert document["members"] == 2
    assert document["records_created"] == 6
    assert ActivityRecord.objects.filter(archived=False).count() == 6


def test_share_with_a_new_group_creates_it_empty(capsys, portal):
    deck = make_deck(portal)

    status, out, _ = run(capsys, "share", deck.pk, "--group", "Later")

    assert status == 0
    assert "Shared 'Quarterly review' with Later (0 members)" in out
    assert SharingGroup.objects.filter(portal=portal, name="Later").exists()


def test_events_load_then_records_shows_the_four_states(
    capsys, portal, group, member, tmp_path
):
    deck = make_deck(portal)
    run(capsys, "share", deck.pk, "--group", group.name)
    welcome, pricing, roadmap = deck.slides.order_by("places__position")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    repeated = view(member.email, welcome, T0, 4000, first)
    events = write_lines(
        tmp_path / "events.jsonl",
        [
            repeated,
            view(member.email, pricing, T0 + timedelta(seconds=5), 3500, first),
            view(member.email, roadmap, T0 + timedelta(seconds=9), 1000, first),
            "{not json",
            view("ghost@nowhere.test", welcome, T0, 4000, first),
            "",
            view(member.email, welcome, T0 + timedelta(days=2), 5000, second),
            repeated,
        ],
    )

    status, out, err = run(capsys, "events", "load", events, "--json")

    assert status == 2
    loaded = json.loads(out)
    assert (loaded["stored"], loaded["duplicates"]) == (4, 1)
    assert [e["line"] for e in loaded["errors"]] == [4, 5]
    assert loaded["errors"][0]["reason"].startswith("is not valid JSON")
    assert (
        loaded["errors"][1]["reason"]
        == "no member ghost@nowhere.test in portal Customers"
    )
    assert "events.jsonl line 4: is not valid JSON" in err

    report = run_json(capsys, "records", deck.pk)

    assert report["presentation"] == {"id": deck.pk, "title": "Quarterly review"}
    assert report["total"] == {
        "not_yet_viewed": 1,
        "viewed": 2,
        "not_yet_viewed_again": 1,
        "viewed_again": 1,
    }
    by_title = {s["title"]: s for s in report["slides"]}
    assert by_title["Welcome"]["viewed_again"] == 1
    assert by_title["Roadmap"]["not_yet_viewed"] == 1
    [row] = report["members"]
    assert row["email"] == member.email
    assert row["account"] == "Globex"
    assert [c["visits"] for c in row["slides"]] == [2, 1, 0]
    assert [c["state"] for c in row["slides"]] == [
        "viewed_again",
        "viewed",
        "not_yet_viewed",
    ]
    assert Event.objects.count() == 4

    status, out, _ = run(capsys, "records", deck.pk)
    assert status == 0
    assert "ada@globex.test" in out
    assert "21." in out


def test_events_load_of_a_missing_file(capsys, portal):
    status, _, err = run(capsys, "events", "load", "missing.jsonl")

    assert status == 2
    assert "There is no file missing.jsonl" in err


def test_records_of_a_presentation_nobody_has(capsys, portal):
    deck = make_deck(portal)

    status, out, _ = run(capsys, "records", deck.pk)

    assert status == 0
    assert "Nobody has access yet" in out


@pytest.mark.parametrize("command", ["share", "records", "slides"])
def test_every_presentation_command_refuses_an_unknown_id(capsys, portal, command):
    extra = ["--group", "x"] if command == "share" else []

    status, _, err = run(capsys, command, "424242", *extra)

    assert status == 2
    assert "There is no presentation 424242" in err


# An installation without pages at all, for the invitation that has no link.
urlpatterns: list = []


@pytest.mark.urls("tests.test_cli")
def test_people_import_without_a_password_page_cannot_invite(capsys, portal, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text("email\nada@globex.test\n", encoding="utf-8")

    status, _, err = run(capsys, "people", "import", people, "--invite")

    assert status == 2
    assert "invitations cannot be sent; import without --invite" in err
    assert Member.objects.count() == 0


def test_people_import_invites_new_members_once(capsys, portal, tmp_path, mailoutbox):
    people = tmp_path / "people.csv"
    people.write_text("email,first_name\nada@globex.test,Ada\n", encoding="utf-8")

    document = run_json(capsys, "people", "import", people, "--invite")
    again = run_json(capsys, "people", "import", people, "--invite")

    assert document["invited"] == ["ada@globex.test"]
    assert again["invited"] == []
    [message] = mailoutbox
    assert message.to == ["ada@globex.test"]
    assert "http://localhost:8000/invitation/" in message.body
    # The login is made when the invitation is accepted, not before.
    assert Member.objects.get(email="ada@globex.test").user is None


def leaf_commands(parser, prefix=()):
    """Every runnable command: its words and its own parser."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from leaf_commands(sub, (*prefix, name))
    if parser.get_default("handler"):
        yield prefix, parser


def test_every_command_has_a_handler_that_takes_json():
    commands = dict(leaf_commands(build_parser()))

    assert {" ".join(words) for words in commands} >= {
        "serve", "demo", "import", "presentations", "slides", "people import",
        "share", "records", "events load", "crm import", "crm sync",
        "insights cube", "insights sales", "insights topics", "insights discover",
        "insights flow",
    }  # fmt: skip
    for words, parser in commands.items():
        arguments = argparse.Namespace(handler=parser.get_default("handler"))
        assert callable(handler_of(arguments)), words
        takes_json = "--json" in parser._option_string_actions
        assert takes_json is (words != ("serve",)), words


def test_rebuild_export_and_erase_from_the_command_line(
    capsys, portal, group, member, tmp_path
):
    from datetime import UTC, datetime

    from entatio.engagement.events import record_events
    from entatio.engagement.models import ActivityRecord
    from tests.test_records import deck, view

    presentation = deck(portal)
    run(capsys, "share", presentation.pk, "--group", group.name)
    first = presentation.slides.order_by("places__position").first()
    record_events(portal, [view(member, first, datetime(2026, 3, 2, tzinfo=UTC), 5000)])
    ActivityRecord.objects.update(visits=0)

    rebuilt = run_json(capsys, "records", "rebuild")
    assert rebuilt == {"pairs": 1, "emptied": 0, "kept": 0}
    assert ActivityRecord.objects.get(member=member, slide=first).visits == 1

    exported = run_json(capsys, "export", "xapi", "--out", str(tmp_path / "x.jsonl"))
    assert exported["statements"] == 1
    parquet = run_json(capsys, "export", "parquet", "--out", str(tmp_path / "pq"))
    assert (parquet["events"], parquet["records"]) == (1, 3)
    visits = run_json(capsys, "export", "csv", "--out", str(tmp_path / "v.csv"))
    assert visits["rows"] == 1

    data = run_json(
        capsys, "people", "export", member.email, "--out", str(tmp_path / "me.json")
    )
    assert (data["records"], data["statements"]) == (3, 1)

    status, _, err = run(capsys, "people", "erase", member.email)
    assert status == 2 and "--yes" in err
    erased = run_json(capsys, "people", "erase", member.email, "--yes")
    assert erased["erased"] == "ada@globex.test"
    member.refresh_from_db()
    assert member.email.endswith("@erased.invalid")


def test_export_refuses_a_missing_folder_and_a_folder_for_a_file(capsys, db, tmp_path):
    status, _, err = run(capsys, "export", "csv", "--out", str(tmp_path / "no/x.csv"))
    assert status == 2 and "There is no folder" in err
    assert not (tmp_path / "no").exists()

    status, _, err = run(capsys, "export", "xapi", "--out", str(tmp_path))
    assert status == 2 and "is a folder" in err
