"""Assembling presentations: insert, remove, replace, copy, cards, and records."""

import pytest

from entatio.engagement.access import share_presentation
from entatio.engagement.models import ActivityRecord
from entatio.library.assembly import (
    copy_slide,
    create_text_card,
    insert_slides,
    lineage,
    remove_slide,
    replace_slide,
    slide_origins,
    update_text_card,
)
from entatio.library.editing import (
    EditError,
    rename_presentation,
    shown_slides,
)
from entatio.library.models import Presentation, Slide
from entatio.people.models import Portal
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import make_deck, slides_of


def titles(presentation: Presentation) -> list[str]:
    return [s.title for s in slides_of(presentation)]


def positions(presentation: Presentation) -> list[int]:
    return list(
        presentation.places.order_by("position").values_list("position", flat=True)
    )


def records_of(member, slide: Slide) -> list[tuple[int, bool]]:
    return list(
        ActivityRecord.objects.filter(member=member, slide=slide).values_list(
            "visits", "archived"
        )
    )


@pytest.fixture
def product(portal) -> Presentation:
    return make_deck(portal, "Product", ["red", "green", "blue"])


def test_insert_from_several_sources_at_a_position(deck, secret, product):
    picked = [slides_of(secret)[1], slides_of(product)[0]]

    insert_slides(deck, picked, at=1)

    assert titles(deck) == [
        "Versioning 1",
        "Roadmap 2",
        "Product 1",
        "Versioning 2",
        "Versioning 3",
        "Versioning 4",
    ]
    assert positions(deck) == [0, 1, 2, 3, 4, 5]


def test_insert_past_the_end_appends_and_none_appends(deck, secret):
    first, second = slides_of(secret)
    insert_slides(deck, [first], at=99)
    insert_slides(deck, [second])

    assert titles(deck)[-2:] == ["Roadmap 1", "Roadmap 2"]


def test_insert_refuses_a_slide_twice_and_another_portal(deck, other_portal):
    with pytest.raises(EditError, match="already in this presentation"):
        insert_slides(deck, [slides_of(deck)[0]])

    foreign = make_deck(other_portal, "Theirs", ["red"])
    with pytest.raises(EditError, match="of its portal"):
        insert_slides(deck, slides_of(foreign))
    with pytest.raises(EditError, match="at least one"):
        insert_slides(deck, [])
    assert len(titles(deck)) == 4


def test_remove_keeps_the_slide_and_closes_the_gap(deck):
    second = slides_of(deck)[1]

    removed = remove_slide(deck, second.pk)

    assert removed == second
    assert Slide.objects.filter(pk=second.pk).exists()
    assert titles(deck) == ["Versioning 1", "Versioning 3", "Versioning 4"]
    assert positions(deck) == [0, 1, 2]
    with pytest.raises(EditError, match="not in this presentation"):
        remove_slide(deck, second.pk)


def test_replace_takes_the_place_and_its_hidden_flag(deck, secret):
    hidden = slides_of(deck)[3]
    replacement = slides_of(secret)[0]

    place = replace_slide(deck, hidden.pk, replacement)

    assert place.position == 3
    assert place.hidden is True
    assert titles(deck) == [
        "Versioning 1",
        "Versioning 2",
        "Versioning 3",
        "Roadmap 1",
    ]
    assert replacement not in shown_slides(deck)


def test_a_copy_remembers_its_origin_and_shares_the_files(deck, product):
    original = slides_of(product)[2]

    place = copy_slide(original, deck, at=0)
    copy = place.slide

    assert copy.pk != original.pk
    assert copy.copied_from == original
    assert copy.image.name == original.image.name
    assert copy.thumbnail.name == original.thumbnail.name
    assert (copy.title, copy.description) == ("Product 3", "About blue")
    assert titles(deck)[0] == "Product 3"

    # Changing the copy leaves the original as it was.
    copy.title = "Our blue"
    copy.save()
    original.refresh_from_db()
    assert original.title == "Product 3"


def test_lineage_follows_copies_of_copies(deck, secret, product):
    original = slides_of(product)[0]
    first = copy_slide(original, deck).slide
    second = copy_slide(first, secret).slide

    assert lineage(second) == [second, first, original]

    origins = {o.place.slide_id: o for o in slide_origins(secret)}
    origin = origins[second.pk]
    assert origin.original == original
    assert origin.source == original.source
    assert origin.copies_between == 2
    assert [p.title for p in origin.also_in] == ["Product"]


def test_a_copy_into_another_organization_is_refused(deck):
    from entatio.people.models import Organization

    elsewhere = Organization.objects.create(name="Other", slug="other")
    portal = Portal.objects.create(organization=elsewhere, name="X", slug="x")
    target = make_deck(portal, "Elsewhere", ["red"])

    with pytest.raises(EditError, match="within its organization"):
        copy_slide(slides_of(deck)[0], target)


def test_a_copy_into_another_portal_of_the_organization(deck, other_portal):
    target = make_deck(other_portal, "Customers deck", ["red"])

    copy = copy_slide(slides_of(deck)[0], target).slide

    assert copy.portal == other_portal
    assert copy.copied_from == slides_of(deck)[0]


def test_text_cards_are_written_and_changed(deck):
    place = create_text_card(deck, " Welcome ", "# Hello\n\nRead *this*.", at=0)
    card = place.slide

    assert card.kind == Slide.Kind.TEXT
    assert (card.title, card.text) == ("Welcome", "# Hello\n\nRead *this*.")
    assert titles(deck)[0] == "Welcome"

    update_text_card(card, "Welcome", "Changed")
    card.refresh_from_db()
    assert card.text == "Changed"

    with pytest.raises(EditError, match="title or some text"):
        create_text_card(deck, "  ", "  ")
    with pytest.raises(EditError, match="text card"):
        update_text_card(slides_of(deck)[1], "x", "y")


def test_rename_presentation(deck):
    rename_presentation(deck, "  Version   control ")
    deck.refresh_from_db()
    assert deck.title == "Version control"
    with pytest.raises(EditError):
        rename_presentation(deck, "   ")


def test_records_follow_insertion_and_removal(deck, secret, member, outsider):
    inserted = slides_of(secret)[0]
    assert records_of(member, inserted) == []

    insert_slides(deck, [inserted], at=0)
    assert records_of(member, inserted) == [(0, False)]
    # Nobody outside the audience gets a record.
    assert records_of(outsider, inserted) == []

    remove_slide(deck, inserted.pk)
    assert records_of(member, inserted) == [(0, True)]

    insert_slides(deck, [inserted])
    assert records_of(member, inserted) == [(0, False)]


def test_removal_keeps_records_of_a_slide_shown_elsewhere(deck, group, member):
    other = make_deck(deck.portal, "Other", ["red"])
    shared = slides_of(deck)[0]
    insert_slides(other, [shared])
    share_presentation(other, group)

    remove_slide(deck, shared.pk)

    assert records_of(member, shared) == [(0, False)]


def test_replacement_archives_the_old_and_records_the_new(deck, secret, member):
    old = slides_of(deck)[0]
    new = slides_of(secret)[0]

    replace_slide(deck, old.pk, new)

    assert records_of(member, old) == [(0, True)]
    assert records_of(member, new) == [(0, False)]


def test_a_copy_gets_records_of_its_own(deck, product, member):
    copy = copy_slide(slides_of(product)[0], deck).slide

    assert records_of(member, copy) == [(0, False)]
    assert records_of(member, slides_of(product)[0]) == []


def test_origins_take_the_same_queries_for_any_number_of_plain_slides(
    deck, product, django_assert_num_queries
):
    copy_slide(slides_of(product)[0], deck)
    with django_assert_num_queries(4):
        # places, the copy's parent, the uploads, the other presentations
        origins = slide_origins(deck)
    assert len(origins) == 5

    insert_slides(deck, slides_of(product)[1:])
    with django_assert_num_queries(4):
        assert len(slide_origins(deck)) == 7
