"""Telling the sockets of a session what changed, once the change is committed."""

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from entatio.live.models import LiveSession
from entatio.live.state import audience_state, presenter_state

MESSAGE_TYPE = "live.message"


def audience_group(session_id: int) -> str:
    return f"live-{session_id}"


def presenter_group(session_id: int) -> str:
    return f"live-{session_id}-presenter"


def tell(group: str, data: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, {"type": MESSAGE_TYPE, "data": data})


def slide_changed(session: LiveSession) -> None:
    tell(audience_group(session.pk), audience_state(session))
    tell(presenter_group(session.pk), presenter_state(session))


def presence_changed(session: LiveSession) -> None:
    tell(presenter_group(session.pk), presenter_state(session))


def session_ended(session: LiveSession) -> None:
    ended = audience_state(session)
    tell(audience_group(session.pk), ended)
    tell(presenter_group(session.pk), ended)
