"""The live session's WebSocket: who may join, following the presenter, presence."""

from collections.abc import Callable

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import reverse

from entatio.asgi import application
from entatio.engagement.access import revoke_share
from entatio.live.models import Presence
from entatio.live.sessions import end_session, move_by, start_session
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import slides_of

ORIGIN = (b"origin", b"http://127.0.0.1")


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Each test its own in-memory layer: its queues belong to one event loop."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def session(owner, deck):
    return start_session(owner, deck, "virtual")


@pytest.fixture
def socket_of(personas) -> Callable[..., WebsocketCommunicator]:
    """A WebSocket client carrying the persona's session cookie."""

    def make(persona: str, path: str, origin: tuple = ORIGIN) -> WebsocketCommunicator:
        headers = [origin]
        someone = personas[persona]
        if someone is not None:
            client = Client()
            client.force_login(someone.user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            headers.append((b"cookie", f"sessionid={cookie}".encode()))
        return WebsocketCommunicator(application, path, headers=headers)

    return make


def audience_path(session) -> str:
    return f"/ws/live/{session.code}/"


def presenter_path(session) -> str:
    return f"/ws/live/{session.code}/present/"


def connects(socket: WebsocketCommunicator) -> tuple[bool, int | None]:
    async def attempt() -> tuple[bool, int | None]:
        connected, code = await socket.connect(timeout=30)
        if connected:
            await socket.disconnect()
        return connected, code

    return async_to_sync(attempt)()


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("owner", True),
        ("author", True),
        ("member", True),
        ("outsider", False),
        ("stranger", False),
        ("anonymous", False),
    ],
)
def test_who_may_follow_a_session(persona, allowed, session, socket_of):
    connected, code = connects(socket_of(persona, audience_path(session)))

    assert connected is allowed
    if not allowed:
        assert code == 4403
        assert not Presence.objects.filter(session=session).exists()


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("owner", True),
        ("author", True),
        ("member", False),
        ("outsider", False),
        ("stranger", False),
        ("anonymous", False),
    ],
)
def test_who_may_steer_a_session(persona, allowed, session, socket_of):
    connected, _ = connects(socket_of(persona, presenter_path(session)))

    assert connected is allowed


def test_a_socket_from_another_site_is_refused(session, socket_of):
    evil = (b"origin", b"http://evil.example")
    connected, _ = connects(socket_of("member", audience_path(session), evil))

    assert connected is False


def test_an_unknown_or_ended_session_is_refused(session, socket_of):
    assert connects(socket_of("member", "/ws/live/NOSUCH99/")) == (False, 4403)
    end_session(session)
    assert connects(socket_of("member", audience_path(session))) == (False, 4403)


def test_next_moves_every_connected_attendee(session, deck, socket_of):
    slides = slides_of(deck)
    presenter = socket_of("owner", presenter_path(session))
    attendees = [
        socket_of("member", audience_path(session)),
        socket_of("author", audience_path(session)),
    ]

    async def scenario() -> list[dict]:
        assert (await presenter.connect(timeout=30))[0]
        await presenter.receive_json_from(timeout=5)
        for attendee in attendees:
            assert (await attendee.connect(timeout=30))[0]
            first = await attendee.receive_json_from(timeout=5)
            assert first["slide"]["id"] == slides[0].pk
            assert "notes" not in first

        await presenter.send_json_to({"action": "next"})
        moved = [await a.receive_json_from(timeout=5) for a in attendees]
        for socket in [*attendees, presenter]:
            await socket.disconnect()
        return moved

    moved = async_to_sync(scenario)()

    assert [(m["position"], m["slide"]["id"]) for m in moved] == [
        (2, slides[1].pk),
        (2, slides[1].pk),
    ]
    assert moved[0]["slide"]["image"] == f"/slides/{slides[1].pk}/image/"


def test_an_attendee_cannot_steer(session, socket_of):
    attendee = socket_of("member", audience_path(session))

    async def scenario() -> None:
        await attendee.connect(timeout=30)
        await attendee.receive_json_from(timeout=5)
        await attendee.send_json_to({"action": "next"})
        assert await attendee.receive_nothing(timeout=0.5)
        await attendee.disconnect()

    async_to_sync(scenario)()

    assert session.displays.count() == 1


def test_the_presenter_sees_presence_come_and_go(session, member, socket_of):
    presenter = socket_of("owner", presenter_path(session))
    attendee = socket_of("member", audience_path(session))

    async def scenario() -> list[tuple[int, list]]:
        await presenter.connect(timeout=30)
        counts = [await presenter.receive_json_from(timeout=5)]
        await attendee.connect(timeout=30)
        await attendee.receive_json_from(timeout=5)
        counts.append(await presenter.receive_json_from(timeout=5))
        await attendee.disconnect()
        counts.append(await presenter.receive_json_from(timeout=5))
        await presenter.disconnect()
        return [(c["present_count"], c["present"]) for c in counts]

    counts = async_to_sync(scenario)()

    ada = {"id": member.pk, "name": "Ada", "ways": ["online"]}
    assert counts == [(0, []), (1, [ada]), (0, [])]
    presence = Presence.objects.get(session=session)
    assert presence.ended_at is not None


def test_ending_tells_attendees_and_closes_their_sockets(session, socket_of):
    attendee = socket_of("member", audience_path(session))

    async def scenario() -> tuple[dict, dict]:
        await attendee.connect(timeout=30)
        await attendee.receive_json_from(timeout=5)
        await database_sync_to_async(end_session)(session)
        told = await attendee.receive_json_from(timeout=5)
        closed = await attendee.receive_output(timeout=5)
        return told, closed

    told, closed = async_to_sync(scenario)()

    assert told["kind"] == "ended"
    assert closed == {"type": "websocket.close", "code": 4410}


def test_an_attendee_who_loses_access_gets_no_more_slides(
    session, deck, group, socket_of
):
    attendee = socket_of("member", audience_path(session))

    async def scenario() -> dict:
        await attendee.connect(timeout=30)
        await attendee.receive_json_from(timeout=5)
        await database_sync_to_async(revoke_share)(deck, group)
        await database_sync_to_async(move_by)(session, 1)
        return await attendee.receive_output(timeout=5)

    closed = async_to_sync(scenario)()

    assert closed == {"type": "websocket.close", "code": 4403}


def test_a_move_through_the_page_reaches_the_sockets(session, deck, owner, socket_of):
    slides = slides_of(deck)
    attendee = socket_of("member", audience_path(session))
    presenter = Client()
    presenter.force_login(owner.user)
    url = reverse("live_move", args=[session.code])

    async def scenario() -> tuple[int, dict]:
        await attendee.connect(timeout=30)
        await attendee.receive_json_from(timeout=5)
        answer = await database_sync_to_async(presenter.post)(url, {"to": "3"})
        moved = await attendee.receive_json_from(timeout=5)
        await attendee.disconnect()
        return answer.status_code, moved

    status, moved = async_to_sync(scenario)()

    assert status == 302
    assert (moved["position"], moved["slide"]["id"]) == (3, slides[2].pk)
