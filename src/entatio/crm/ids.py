"""Salesforce record Ids: the 15-character form and its 18-character twin.

A 15-character Id is case-sensitive; the 18-character form appends three
characters that encode the case of the first fifteen, so it survives tools
that ignore case. Entatio keeps the 18-character form, whichever it is given.
"""

import re

_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


class InvalidSalesforceId(ValueError):
    """Text that is not a Salesforce record Id; the message says why."""


def is_salesforce_id(text: str) -> bool:
    """Whether the text has the shape of a record Id (15 or 18, checksum right)."""
    try:
        salesforce_id_18(text)
    except InvalidSalesforceId:
        return False
    return True


def salesforce_id_18(text: str) -> str:
    """The 18-character form of a 15- or 18-character Id."""
    text = text.strip()
    if not _ID.match(text):
        raise InvalidSalesforceId(
            f"{text!r} is not a Salesforce Id (15 or 18 letters and digits)"
        )

    suffix = _case_suffix(text[:15])
    if len(text) == 15:
        return text + suffix
    if text[15:].upper() != suffix:
        raise InvalidSalesforceId(
            f"{text!r} is not a Salesforce Id: its last three characters do not "
            "match the first fifteen"
        )
    return text[:15] + suffix


def _case_suffix(id15: str) -> str:
    """One character per five: a bit for each upper-case letter among them."""
    characters = []
    for start in range(0, 15, 5):
        bits = sum(
            1 << position
            for position, character in enumerate(id15[start : start + 5])
            if "A" <= character <= "Z"
        )
        characters.append(_SUFFIX_ALPHABET[bits])
    return "".join(characters)
