"""A member's posts go with their data on request, and go with them when erased."""

from entatio.discussions.models import Post
from entatio.discussions.posting import reply_to, start_post
from entatio.engagement.privacy import erase_member, member_data
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import slides_of


def test_the_data_of_a_member_holds_their_posts(deck, member, author):
    slide = slides_of(deck)[0]
    question = start_post(member, deck, slide, "Does this cover **tags**?")
    answer = reply_to(author, question, "Yes, from 4.2 on.")
    start_post(member, deck, None, "Thanks for the walk-through")

    document = member_data(member)

    posts = document["posts"]
    assert [(p["body"], p["slide"], p["reply_to"]) for p in posts] == [
        ("Does this cover **tags**?", slide.pk, None),
        ("Thanks for the walk-through", None, None),
    ]
    assert all(p["presentation"] == deck.pk and not p["deleted"] for p in posts)
    assert [p["body"] for p in member_data(author)["posts"]] == [answer.body]


def test_erasing_a_member_erases_their_words_and_keeps_the_thread(deck, member, author):
    slide = slides_of(deck)[0]
    question = start_post(member, deck, slide, "Who owns the migration?")
    answer = reply_to(author, question, "The platform team does.")

    erase_member(member)

    question.refresh_from_db()
    answer.refresh_from_db()
    assert question.body == "" and question.is_deleted
    assert question.author_id == member.pk
    assert (answer.body, answer.is_deleted, answer.parent_id) == (
        "The platform team does.",
        False,
        question.pk,
    )
    assert member_data(member)["posts"][0]["body"] == ""
    assert Post.objects.filter(presentation=deck).count() == 2
