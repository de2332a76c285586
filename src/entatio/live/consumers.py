"""The session's WebSocket: attendees follow the slide, the presenter steers.

A socket is refused (closed before it is accepted) unless its user may see the
presentation, exactly as the pages decide; presenter sockets also need an
author. An attendee's open socket is their online presence.
"""

from contextlib import suppress
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import PermissionDenied
from django.http import Http404

from entatio.live import news, sessions
from entatio.live.access import session_for, session_to_present
from entatio.live.models import LiveSession
from entatio.live.state import audience_state, presenter_state

# Close codes in the range kept for applications: refused, and ended.
REFUSED = 4403
ENDED = 4410
STEPS = {"next": 1, "previous": -1}


class LiveConsumer(AsyncJsonWebsocketConsumer):
    presenting = False

    async def connect(self) -> None:
        code = self.scope["url_route"]["kwargs"]["code"]
        joined = await database_sync_to_async(self.join)(code)
        if joined is None:
            await self.close(code=REFUSED)
            return

        self.session_id, state = joined
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(state)

    def join(self, code: str) -> tuple[int, dict[str, Any]] | None:
        """Check the user and open their presence; None when refused."""
        find = session_to_present if self.presenting else session_for
        try:
            member, session = find(self.scope["user"], code)
        except (Http404, PermissionDenied):
            return None
        if not session.is_on:
            return None

        self.session = session
        if self.presenting:
            return session.pk, presenter_state(session)
        sessions.join_online(session, member, self.channel_name)
        news.presence_changed(session)
        return session.pk, audience_state(session)

    @property
    def group(self) -> str:
        if self.presenting:
            return news.presenter_group(self.session_id)
        return news.audience_group(self.session_id)

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "session_id"):
            return
        await self.channel_layer.group_discard(self.group, self.channel_name)
        if not self.presenting:
            await database_sync_to_async(self.leave)()

    def leave(self) -> None:
        sessions.leave_online(self.channel_name)
        self.session.refresh_from_db(fields=["ended_at"])
        if self.session.is_on:
            news.presence_changed(self.session)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Only the presenter's sockets steer: next, previous, or goto N."""
        if not self.presenting or not isinstance(content, dict):
            return
        action = content.get("action")
        if action in STEPS:
            await database_sync_to_async(self.step)(STEPS[action])
        elif action == "goto" and isinstance(content.get("position"), int):
            await database_sync_to_async(self.goto)(content["position"])

    def step(self, by: int) -> None:
        # A move after the end is dropped; the socket is closing anyway.
        with suppress(sessions.SessionEnded):
            sessions.move_by(self.fresh_session(), by)

    def goto(self, position: int) -> None:
        with suppress(sessions.SessionEnded):
            sessions.show_position(self.fresh_session(), position)

    def fresh_session(self) -> LiveSession:
        # The presenter may have lost the right to present since connecting.
        try:
            _, session = session_to_present(self.scope["user"], self.session.code)
        except (Http404, PermissionDenied) as error:
            raise sessions.SessionEnded("No longer allowed to present.") from error
        return session

    async def live_message(self, event: dict[str, Any]) -> None:
        data = event["data"]
        # Access can be revoked during a session: slides go only to those
        # who may still see them, checked again at every message.
        if data.get("kind") != "ended" and not await self.still_allowed():
            await self.close(code=REFUSED)
            return
        await self.send_json(data)
        if data.get("kind") == "ended":
            await self.close(code=ENDED)

    @database_sync_to_async
    def still_allowed(self) -> bool:
        find = session_to_present if self.presenting else session_for
        try:
            find(self.scope["user"], self.session.code)
        except (Http404, PermissionDenied):
            return False
        return True


class PresenterConsumer(LiveConsumer):
    presenting = True
