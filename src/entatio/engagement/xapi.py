"""Events as xAPI 1.0.3 statements, and xAPI statements as events."""

import re
from datetime import datetime
from typing import Any

from django.conf import settings

# Verbs from the ADL and Activity Streams vocabularies where one fits; the
# product's own IRIs elsewhere.
VERB_IRIS = {
    "viewed": "http://id.tincanapi.com/verb/viewed",
    "watched": "https://w3id.org/xapi/video/verbs/played",
    "presented": "http://adlnet.gov/expapi/verbs/presented",
    "opened": "http://activitystrea.ms/schema/1.0/open",
    "joined": "http://activitystrea.ms/schema/1.0/join",
    "left": "http://activitystrea.ms/schema/1.0/leave",
    "commented": "http://adlnet.gov/expapi/verbs/commented",
    "downloaded": "http://id.tincanapi.com/verb/downloaded",
    "interacted": "http://adlnet.gov/expapi/verbs/interacted",
}
VERBS_BY_IRI = {iri: verb for verb, iri in VERB_IRIS.items()}
VIDEO_TIME = "https://w3id.org/xapi/video/extensions/time"
SLIDE_TYPE = "http://id.tincanapi.com/activitytype/slide"
DECK_TYPE = "http://id.tincanapi.com/activitytype/slide-deck"
_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def activity_iri(kind: str, pk: int) -> str:
    base = settings.ENTATIO["PUBLIC_URL"].rstrip("/")
    return f"{base}/xapi/{kind}/{pk}"


def iso_duration(ms: int) -> str:
    """Milliseconds as an ISO 8601 duration with at most 0.01 s precision."""
    seconds = round(ms / 1000, 2)
    text = f"{seconds:.2f}".rstrip("0").rstrip(".")
    return f"PT{text}S"


def duration_ms(text: str) -> int:
    match = _DURATION.match(text or "")
    if not match or text in ("P", "PT"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT3.5S")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    seconds = parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    return round(seconds * 1000)


def statement_of(event: Any) -> dict[str, Any]:
    """One stored event as an xAPI statement; ``event`` has its related rows."""
    statement: dict[str, Any] = {
        "id": str(event.id),
        "actor": _actor(event.member),
        "verb": {"id": VERB_IRIS[event.verb], "display": {"en-US": event.verb}},
        "object": _activity(event),
        "timestamp": _timestamp(event.at),
        "version": "1.0.3",
    }
    result = _result(event)
    if result:
        statement["result"] = result
    statement["context"] = _context(event)
    return statement


def _result(event: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if event.duration_ms:
        result["duration"] = iso_duration(event.duration_ms)
    furthest = (event.statement or {}).get("furthest_ms")
    if event.verb == "watched" and isinstance(furthest, int | float):
        # The furthest point reached, in seconds, as the xAPI video profile
        # names a position in a video.
        result["extensions"] = {VIDEO_TIME: round(furthest / 1000, 3)}
    return result


def _actor(member: Any) -> dict[str, Any]:
    if member is None or not member.email:
        # An erased person: an anonymous account keeps the statement valid.
        return {
            "objectType": "Agent",
            "account": {"homePage": settings.ENTATIO["PUBLIC_URL"], "name": "erased"},
        }
    return {
        "objectType": "Agent",
        "name": member.display_name,
        "mbox": f"mailto:{member.email}",
    }


def _activity(event: Any) -> dict[str, Any]:
    if event.slide_id:
        title = event.slide.title if event.slide else ""
        return {
            "objectType": "Activity",
            "id": activity_iri("slides", event.slide_id),
            "definition": {
                "type": SLIDE_TYPE,
                "name": {"en-US": title or f"Slide {event.slide_id}"},
            },
        }
    return _deck(event)


def _deck(event: Any) -> dict[str, Any]:
    title = event.presentation.title if event.presentation else ""
    return {
        "objectType": "Activity",
        "id": activity_iri("presentations", event.presentation_id or 0),
        "definition": {
            "type": DECK_TYPE,
            "name": {"en-US": title or "Presentation"},
        },
    }


def _context(event: Any) -> dict[str, Any]:
    extensions = settings.ENTATIO["PUBLIC_URL"].rstrip("/") + "/xapi/extensions"
    context: dict[str, Any] = {
        "platform": "Entatio",
        "extensions": {
            f"{extensions}/portal": event.portal_id,
            f"{extensions}/live": event.live,
        },
    }
    if event.visit_id:
        context["registration"] = str(event.visit_id)
    if event.slide_id and event.presentation_id:
        context["contextActivities"] = {"parent": [_deck(event)]}
    return context


def _timestamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def event_from_statement(statement: dict[str, Any]) -> dict[str, Any]:
    """An incoming xAPI statement in the plain event form of the design."""
    actor = statement.get("actor") or {}
    mbox = str(actor.get("mbox", ""))
    verb_iri = str((statement.get("verb") or {}).get("id", ""))
    object_id = str((statement.get("object") or {}).get("id", ""))
    context = statement.get("context") or {}
    result = statement.get("result") or {}

    slide = re.search(r"/slides/(\d+)$", object_id)
    parents = (context.get("contextActivities") or {}).get("parent") or []
    # A statement about the presentation itself (a download, a post on the
    # whole deck) names it as its object rather than as a parent.
    deck_ids = [object_id, *(str(p.get("id", "")) for p in parents)]
    deck = next(
        (m for i in deck_ids if (m := re.search(r"/presentations/(\d+)$", i))),
        None,
    )
    display = (statement.get("verb") or {}).get("display") or {}
    return {
        "id": statement.get("id"),
        "member": mbox.removeprefix("mailto:"),
        "verb": VERBS_BY_IRI.get(verb_iri) or display.get("en-US", verb_iri),
        "slide": int(slide.group(1)) if slide else None,
        "presentation": int(deck.group(1)) if deck else None,
        "at": statement.get("timestamp"),
        "duration_ms": duration_ms(result["duration"]) if "duration" in result else 0,
        "visit": context.get("registration"),
    }
