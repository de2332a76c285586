"""The xAPI 1.0.3 data rules a statement must follow, written out plainly.

Covers what the exported statements use: actor (Agent with one inverse
functional identifier), verb (IRI id, language-map display), object (Activity
with IRI id and definition), result duration, context (UUID registration,
contextActivities), timestamp, and statement id.
"""

import re
import uuid

IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]+$")
LANGUAGE_TAG = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")
DURATION = re.compile(
    r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$"
)
TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)
STATEMENT_KEYS = {
    "id",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "stored",
    "authority",
    "version",
    "attachments",
}


def problems(statement) -> list[str]:
    found = []
    if not isinstance(statement, dict):
        return ["a statement is a JSON object"]
    for key in ("actor", "verb", "object"):
        if key not in statement:
            found.append(f"{key} is required")
    found += [f"unknown property {k}" for k in statement if k not in STATEMENT_KEYS]
    if "id" in statement and not _is_uuid(statement["id"]):
        found.append("id must be a UUID")
    if "actor" in statement:
        found += _agent(statement["actor"])
    if "verb" in statement:
        found += _verb(statement["verb"])
    if "object" in statement:
        found += _object(statement["object"])
    duration = (statement.get("result") or {}).get("duration")
    if duration is not None and not DURATION.match(str(duration)):
        found.append("result.duration must be an ISO 8601 duration")
    if "context" in statement:
        found += _context(statement["context"])
    if "timestamp" in statement and not TIMESTAMP.match(statement["timestamp"]):
        found.append("timestamp must be ISO 8601 with a time zone")
    return found


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _language_map(value, where) -> list[str]:
    if not isinstance(value, dict) or not value:
        return [f"{where} must be a language map"]
    return [
        f"{where} has a bad language tag {k}"
        for k in value
        if not LANGUAGE_TAG.match(k)
    ]


def _agent(actor) -> list[str]:
    if not isinstance(actor, dict):
        return ["actor must be an object"]
    if actor.get("objectType", "Agent") == "Group" and "member" in actor:
        return []
    ifis = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in actor]
    if len(ifis) != 1:
        return ["an Agent has exactly one inverse functional identifier"]
    if "mbox" in actor and not str(actor["mbox"]).startswith("mailto:"):
        return ["mbox must be a mailto: IRI"]
    if "account" in actor:
        account = actor["account"]
        if not IRI.match(str(account.get("homePage", ""))) or not account.get("name"):
            return ["account needs homePage (IRL) and name"]
    return []


def _verb(verb) -> list[str]:
    if not isinstance(verb, dict) or not IRI.match(str(verb.get("id", ""))):
        return ["verb.id must be an IRI"]
    return _language_map(verb["display"], "verb.display") if "display" in verb else []


def _activity(activity, where) -> list[str]:
    found = []
    if not IRI.match(str(activity.get("id", ""))):
        found.append(f"{where}.id must be an IRI")
    definition = activity.get("definition")
    if definition is not None:
        if "type" in definition and not IRI.match(str(definition["type"])):
            found.append(f"{where}.definition.type must be an IRI")
        for key in ("name", "description"):
            if key in definition:
                found += _language_map(definition[key], f"{where}.definition.{key}")
    return found


def _object(obj) -> list[str]:
    if not isinstance(obj, dict):
        return ["object must be a JSON object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        return _activity(obj, "object")
    if kind in ("Agent", "Group"):
        return _agent(obj)
    if kind == "StatementRef":
        return [] if _is_uuid(obj.get("id")) else ["StatementRef needs a UUID id"]
    if kind == "SubStatement":
        return [
            p for p in problems({k: v for k, v in obj.items() if k != "objectType"})
        ]
    return [f"unknown objectType {kind}"]


def _context(context) -> list[str]:
    found = []
    if "registration" in context and not _is_uuid(context["registration"]):
        found.append("context.registration must be a UUID")
    for kind, activities in (context.get("contextActivities") or {}).items():
        if kind not in ("parent", "grouping", "category", "other"):
            found.append(f"unknown contextActivities key {kind}")
        items = activities if isinstance(activities, list) else [activities]
        for activity in items:
            found += _activity(activity, f"context.contextActivities.{kind}")
    for key in context.get("extensions") or {}:
        if not IRI.match(key):
            found.append(f"extension key {key} must be an IRI")
    return found
