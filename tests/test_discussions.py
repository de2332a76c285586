"""Discussions: posting, replies, edits, soft deletes, moderation, limits, events."""

import json
import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from entatio.discussions.models import Post
from entatio.discussions.posting import MAX_BODY_CHARS, reply_to, start_post
from entatio.engagement.access import revoke_share
from entatio.engagement.activity import ACTIVITY_VERBS
from entatio.engagement.derive import ON_SCREEN_VERBS
from entatio.engagement.events import KNOWN_VERBS
from entatio.engagement.exports import export_xapi
from entatio.engagement.models import ActivityRecord, Event
from entatio.engagement.xapi import VERB_IRIS, VERBS_BY_IRI
from entatio.library.models import Presentation
from entatio.people.models import Member
from tests import xapi_rules
from tests.personas import make_member
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import slides_of

FRAGMENT = {"HTTP_X_ENTATIO_FRAGMENT": "thread"}


@pytest.fixture(autouse=True)
def fresh_limits():
    # Rate-limit counts live in the cache, which outlives a test's database.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def colleague(portal, group) -> Member:
    """A second member of the group: sees the deck, wrote nothing."""
    colleague = make_member(portal, "grace@globex.test", first_name="Grace")
    group.members.add(colleague)
    return colleague


def post(client, deck: Presentation, body: str, **fields) -> object:
    url = reverse("discussion_post", args=[deck.pk])
    return client.post(url, {"body": body, **fields})


def thread_url(deck: Presentation, slide=None) -> str:
    url = reverse("discussion_thread", args=[deck.pk])
    return f"{url}?slide={slide.pk}" if slide else url


def record_values() -> list[tuple]:
    return sorted(
        ActivityRecord.objects.values_list(
            "member_id", "slide_id", "visits", "dwell_ms", "first_seen_at"
        )
    )


def test_a_post_on_a_slide_is_kept_and_is_a_commented_event(deck, member, client_of):
    slide = slides_of(deck)[1]
    records_before = record_values()

    response = post(client_of("member"), deck, "Why *blue*?", slide=slide.pk)

    written = Post.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{thread_url(deck, slide)}#post-{written.pk}"
    assert (written.author, written.slide, written.presentation) == (
        member,
        slide,
        deck,
    )
    assert written.body == "Why *blue*?"
    assert written.parent is None

    event = Event.objects.get()
    assert (event.verb, event.member, event.slide, event.presentation) == (
        "commented",
        member,
        slide,
        deck,
    )
    assert event.portal_id == member.portal_id
    assert event.visit is None and event.duration_ms == 0
    assert event.statement == {
        "id": str(event.id),
        "member": member.email,
        "verb": "commented",
        "slide": slide.pk,
        "presentation": deck.pk,
        "at": event.at.isoformat(),
        "post": written.pk,
    }
    # Commenting is not on-screen time: no record moves.
    assert record_values() == records_before


def test_a_post_on_the_whole_presentation_has_no_slide(deck, member, client_of):
    post(client_of("member"), deck, "Thanks for the deck")

    written = Post.objects.get()
    assert written.slide is None
    event = Event.objects.get()
    assert (event.verb, event.slide, event.presentation) == ("commented", None, deck)


def test_replies_are_one_level_deep_and_are_events_too(deck, member, author, client_of):
    slide = slides_of(deck)[0]
    post(client_of("member"), deck, "Is 2.0 out?", slide=slide.pk)
    question = Post.objects.get()

    post(client_of("author"), deck, "Next week.", parent=question.pk)
    answer = Post.objects.get(author=author)
    post(client_of("member"), deck, "Thanks!", parent=answer.pk)
    thanks = Post.objects.get(body="Thanks!")

    # Replying to a reply answers the post that started the thread.
    assert answer.parent == question and thanks.parent == question
    assert answer.slide == slide and thanks.slide == slide
    events = Event.objects.order_by("at", "received_at")
    assert [(e.member_id, e.slide_id, e.verb) for e in events] == [
        (member.pk, slide.pk, "commented"),
        (author.pk, slide.pk, "commented"),
        (member.pk, slide.pk, "commented"),
    ]
    reply_event = Event.objects.get(member=author)
    assert reply_event.statement["post"] == answer.pk
    assert reply_event.statement["reply_to"] == question.pk


def test_the_thread_shows_posts_in_order_with_replies_under_them(
    deck, member, author, client_of
):
    slide = slides_of(deck)[0]
    post(client_of("member"), deck, "First", slide=slide.pk)
    post(client_of("author"), deck, "Second", slide=slide.pk)
    post(client_of("author"), deck, "Answer", parent=Post.objects.get(body="First").pk)
    post(client_of("member"), deck, "Elsewhere", slide=slides_of(deck)[1].pk)

    page = client_of("member").get(thread_url(deck, slide)).content.decode()

    assert page.index("First") < page.index("Answer") < page.index("Second")
    assert "Elsewhere" not in page
    assert page.count('class="replies"') == 1


def test_the_viewer_panel_gets_the_thread_alone(deck, member, client_of):
    slide = slides_of(deck)[0]
    client = client_of("member")
    url = reverse("discussion_post", args=[deck.pk])

    response = client.post(url, {"body": "Hello", "slide": slide.pk}, **FRAGMENT)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div class="thread"')
    assert "<html" not in html
    assert "Hello" in html and "Ada" in html
    assert f'data-thread="s{slide.pk}"' in html


def test_markdown_is_rendered_and_anything_active_is_removed(deck, client_of):
    body = (
        "**bold** and `code`\n\n<script>alert(1)</script>\n\n"
        "[click](javascript:alert(2)) <img src=x onerror=alert(3)>"
    )
    post(client_of("member"), deck, body)

    html = client_of("member").get(thread_url(deck)).content.decode()
    assert "<strong>bold</strong>" in html
    assert "<code>code</code>" in html
    assert "<script>alert(1)" not in html
    assert 'href="javascript' not in html
    assert "<img" not in html


def test_writers_edit_their_own_posts_and_nobody_else_may(
    deck, member, colleague, client_of
):
    post(client_of("member"), deck, "Typo hree")
    written = Post.objects.get()
    url = reverse("edit_post", args=[written.pk])

    assert client_of("member").post(url, {"body": "Typo here"}).status_code == 302
    assert client_of("author").post(url, {"body": "Hijacked"}).status_code == 403
    colleague_client = client_of("member")
    colleague_client.force_login(colleague.user)
    assert colleague_client.post(url, {"body": "Hijacked"}).status_code == 403

    written.refresh_from_db()
    assert written.body == "Typo here"
    assert written.edited_at is not None
    # An edit is not a new comment.
    assert Event.objects.count() == 1


def test_a_deleted_post_loses_its_text_and_keeps_its_place(deck, member, client_of):
    client = client_of("member")
    post(client, deck, "Regrettable remark")
    written = Post.objects.get()
    post(client_of("author"), deck, "A reply", parent=written.pk)

    response = client.post(reverse("delete_post", args=[written.pk]))

    written.refresh_from_db()
    assert response.status_code == 302
    assert written.body == ""
    assert written.deleted_by == member and written.deleted_at is not None
    page = client.get(thread_url(deck)).content.decode()
    assert "Regrettable" not in page
    assert "Deleted." in page
    assert "A reply" in page
    # Events never held the text, and stay as what happened.
    assert Event.objects.count() == 2
    assert all(
        "Regrettable" not in json.dumps(e.statement) for e in Event.objects.all()
    )


def test_a_deleted_post_cannot_be_edited_or_answered(deck, member, client_of):
    client = client_of("member")
    post(client, deck, "Gone soon")
    written = Post.objects.get()
    client.post(reverse("delete_post", args=[written.pk]))

    edit = client.post(reverse("edit_post", args=[written.pk]), {"body": "Back"})
    reply = post(client, deck, "Answer", parent=written.pk)

    assert edit.status_code == 400
    assert "A deleted post cannot be edited." in edit.content.decode()
    assert reply.status_code == 400
    assert "it takes no more replies" in reply.content.decode()
    written.refresh_from_db()
    assert written.body == "" and Post.objects.count() == 1


def test_authors_moderate_and_members_cannot(
    deck, member, author, owner, colleague, client_of
):
    post(client_of("member"), deck, "Spam spam spam")
    spam = Post.objects.get()
    colleague_client = client_of("member")
    colleague_client.force_login(colleague.user)

    refused = colleague_client.post(reverse("delete_post", args=[spam.pk]))
    spam.refresh_from_db()
    assert refused.status_code == 403
    assert spam.body == "Spam spam spam"

    removed = client_of("author").post(reverse("delete_post", args=[spam.pk]))
    spam.refresh_from_db()
    assert removed.status_code == 302
    assert (spam.body, spam.deleted_by) == ("", author)
    page = client_of("member").get(thread_url(deck)).content.decode()
    assert "Deleted by an author." in page


def test_an_author_may_not_edit_a_members_words(deck, member, client_of):
    post(client_of("member"), deck, "My words")
    written = Post.objects.get()

    response = client_of("owner").post(
        reverse("edit_post", args=[written.pk]), {"body": "Other words"}
    )

    assert response.status_code == 403
    written.refresh_from_db()
    assert written.body == "My words"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("", "Write something before posting."),
        ("   \n ", "Write something before posting."),
        (
            "x" * (MAX_BODY_CHARS + 1),
            "A post can be at most 5,000 characters long; this one has 5,001.",
        ),
    ],
)
def test_empty_and_long_posts_are_refused_with_the_reason(
    deck, member, client_of, body, error
):
    response = post(client_of("member"), deck, body)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert Post.objects.count() == 0
    assert Event.objects.count() == 0


def test_a_post_of_exactly_the_limit_is_taken(deck, member, client_of):
    response = post(client_of("member"), deck, "y" * MAX_BODY_CHARS)

    assert response.status_code == 302
    assert len(Post.objects.get().body) == MAX_BODY_CHARS


def test_a_refused_post_keeps_the_draft_in_the_form(deck, member, client_of):
    draft = "z" * (MAX_BODY_CHARS + 10)
    response = post(client_of("member"), deck, draft, **{})

    assert f">{draft}</textarea>" in response.content.decode()


@override_settings(RATE_LIMITS={"discussion_post": (3, 600), "login": (10, 900)})
def test_posting_is_rate_limited_per_member(deck, member, author, client_of):
    client = client_of("member")
    codes = [post(client, deck, f"Post {n}").status_code for n in range(4)]

    assert codes == [302, 302, 302, 429]
    last = post(client, deck, "One more")
    assert last.status_code == 429
    assert "You posted a lot in a short time" in last.content.decode()
    assert Post.objects.count() == 3
    assert Event.objects.count() == 3
    # Another member has a limit of their own.
    assert post(client_of("author"), deck, "Mine").status_code == 302


def test_a_hidden_slide_is_discussed_by_authors_only(deck, member, client_of):
    hidden = slides_of(deck)[3]

    assert post(client_of("member"), deck, "Hi", slide=hidden.pk).status_code == 404
    assert client_of("member").get(thread_url(deck, hidden)).status_code == 404
    assert post(client_of("author"), deck, "Hi", slide=hidden.pk).status_code == 302


def test_a_slide_of_another_presentation_is_no_slide_here(
    deck, secret, member, client_of
):
    foreign = slides_of(secret)[0]

    assert post(client_of("owner"), deck, "Hi", slide=foreign.pk).status_code == 404
    assert post(client_of("owner"), deck, "Hi", slide="first").status_code == 404
    assert Post.objects.count() == 0


def test_a_reply_cannot_reach_into_another_presentation(
    deck, secret, member, client_of
):
    post(client_of("owner"), secret, "Roadmap talk")
    hidden_post = Post.objects.get()

    response = post(client_of("member"), deck, "Peek", parent=hidden_post.pk)

    assert response.status_code == 404
    assert Post.objects.count() == 1


def test_losing_access_closes_the_discussion(deck, group, member, client_of):
    client = client_of("member")
    post(client, deck, "Before")
    written = Post.objects.get()

    revoke_share(deck, group)

    assert client.get(thread_url(deck)).status_code == 404
    assert post(client, deck, "After").status_code == 404
    edit = client.post(reverse("edit_post", args=[written.pk]), {"body": "x"})
    assert edit.status_code == 404
    assert client.post(reverse("delete_post", args=[written.pk])).status_code == 404


def test_the_discussions_page_lists_threads_in_slide_order(deck, member, client_of):
    slides = slides_of(deck)
    client = client_of("member")
    post(client, deck, "On three", slide=slides[2].pk)
    post(client, deck, "On one", slide=slides[0].pk)
    post(client, deck, "On one again", slide=slides[0].pk)
    post(client, deck, "Overall")
    client.post(reverse("delete_post", args=[Post.objects.get(body="On one").pk]))

    page = client_of("author").get(reverse("presentation_discussions", args=[deck.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    whole = html.index("The whole presentation")
    first = html.index("Slide 1: Versioning 1")
    third = html.index("Slide 3: Versioning 3")
    assert whole < first < third
    assert html.count("1 post,") == 3  # a deleted post is not counted
    assert "Slide 2:" not in html
    assert f'href="/presentations/{deck.pk}/?slide=3"' in html


def test_the_discussions_page_says_when_there_are_none(deck, client_of):
    html = (
        client_of("owner")
        .get(reverse("presentation_discussions", args=[deck.pk]))
        .content.decode()
    )

    assert 'id="no-discussions"' in html


def test_a_post_of_an_erased_member_stays_without_them(deck, member, client_of):
    post(client_of("member"), deck, "Kept words")
    member.delete()

    html = client_of("owner").get(thread_url(deck)).content.decode()
    assert "A former member" in html and "Kept words" in html


def test_activity_verbs_are_known_events_but_never_on_screen_time():
    assert {"commented", "downloaded"} == ACTIVITY_VERBS
    assert not ACTIVITY_VERBS & ON_SCREEN_VERBS
    assert ACTIVITY_VERBS <= KNOWN_VERBS


def test_discussion_and_download_events_export_as_valid_xapi(
    deck, member, portal, client_of, tmp_path
):
    slide = slides_of(deck)[0]
    client = client_of("member")
    post(client, deck, "On a slide", slide=slide.pk)
    post(client, deck, "A reply", parent=Post.objects.get().pk)
    post(client, deck, "On the deck")
    Presentation.objects.filter(pk=deck.pk).update(downloadable=True)
    assert client.get(reverse("download_pdf", args=[deck.pk])).status_code == 200

    out = tmp_path / "statements.jsonl"
    assert export_xapi(out, portal) == 4
    statements = [json.loads(line) for line in out.read_text().splitlines()]

    for statement in statements:
        assert xapi_rules.problems(statement) == []
        assert uuid.UUID(statement["id"])
        assert statement["actor"]["mbox"] == f"mailto:{member.email}"
    verbs = [s["verb"]["id"] for s in statements]
    assert verbs == [
        "http://adlnet.gov/expapi/verbs/commented",
        "http://adlnet.gov/expapi/verbs/commented",
        "http://adlnet.gov/expapi/verbs/commented",
        "http://id.tincanapi.com/verb/downloaded",
    ]
    on_slide, reply, on_deck, download = statements
    assert on_slide["object"]["id"].endswith(f"/xapi/slides/{slide.pk}")
    parent = on_slide["context"]["contextActivities"]["parent"][0]
    assert parent["id"].endswith(f"/xapi/presentations/{deck.pk}")
    assert reply["object"]["id"] == on_slide["object"]["id"]
    assert on_deck["object"]["id"].endswith(f"/xapi/presentations/{deck.pk}")
    assert download["object"]["id"].endswith(f"/xapi/presentations/{deck.pk}")
    assert "result" not in download and "registration" not in download["context"]


def test_the_activity_verbs_map_to_their_iris_both_ways():
    assert VERB_IRIS["commented"] == "http://adlnet.gov/expapi/verbs/commented"
    assert VERB_IRIS["downloaded"] == "http://id.tincanapi.com/verb/downloaded"
    assert VERBS_BY_IRI[VERB_IRIS["commented"]] == "commented"
    assert VERBS_BY_IRI[VERB_IRIS["downloaded"]] == "downloaded"


def test_the_discussions_page_reads_all_threads_in_a_fixed_number_of_queries(
    deck, member, author, client_of
):
    slides = slides_of(deck)
    client = client_of("author")
    url = reverse("presentation_discussions", args=[deck.pk])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    first = start_post(member, deck, slides[0], "One thread")
    reply_to(author, first, "Answered")
    with_one_thread = queries()
    for slide in (None, slides[1], slides[2]):
        question = start_post(member, deck, slide, "Another thread")
        reply_to(author, question, "Answered too")
    assert queries() == with_one_thread
