"""Messages to people, each in plain text and HTML from the same context.

A message named ``invitation`` is three templates under ``people/mail/``:
``invitation_subject.txt``, ``invitation.txt`` and ``invitation.html``.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def public_link(path: str) -> str:
    """An absolute address of this installation, for links in messages."""
    return str(settings.ENTATIO["PUBLIC_URL"]).rstrip("/") + path


def send_message(
    name: str, to: str, context: dict[str, Any], connection: Any = None
) -> None:
    """Render the message ``name`` for one recipient and send it."""
    folder = f"people/mail/{name}"
    subject = " ".join(render_to_string(f"{folder}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{folder}.txt", context),
        to=[to],
        connection=connection,
    )
    message.attach_alternative(render_to_string(f"{folder}.html", context), "text/html")
    message.send()
    logger.info("Sent %s to member address %s", name, to)
