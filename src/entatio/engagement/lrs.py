"""Sending xAPI statements to a learning record store (LRS)."""

import base64
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

XAPI_VERSION = "1.0.3"
BATCH = 100
TRANSIENT = {408, 429, 500, 502, 503, 504}


class LrsError(RuntimeError):
    """The store refused statements or stayed unreachable; says which and why."""


@dataclass
class LrsTarget:
    endpoint: str
    username: str = ""
    password: str = ""
    timeout: float = 20.0
    retries: int = 4
    backoff: float = 1.0

    def __repr__(self) -> str:
        # The password never reaches a log line or a traceback.
        return f"LrsTarget(endpoint={self.endpoint!r}, username={self.username!r})"


def send_statements(target: LrsTarget, statements: Iterable[dict[str, Any]]) -> int:
    """POST the statements in batches; each batch retried when it may succeed.

    Statement ids are set by us, so a batch sent twice is stored once by a
    conforming store (it answers 204 or 409 for ids it already has).
    """
    sent = 0
    for batch in _batches(statements):
        _post_with_retries(target, batch)
        sent += len(batch)
    return sent


def _batches(statements: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for statement in statements:
        batch.append(statement)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _post_with_retries(target: LrsTarget, batch: list[dict[str, Any]]) -> None:
    for attempt in range(target.retries + 1):
        try:
            _post(target, batch)
            return
        except urllib.error.HTTPError as error:
            if error.code == 409:
                return
            if error.code not in TRANSIENT or attempt == target.retries:
                detail = error.read(500).decode("utf-8", "replace")
                raise LrsError(
                    f"The LRS at {target.endpoint} refused {len(batch)} statements "
                    f"with HTTP {error.code}: {detail}"
                ) from error
            reason = f"HTTP {error.code}"
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            if attempt == target.retries:
                raise LrsError(
                    f"The LRS at {target.endpoint} could not be reached: {error}"
                ) from error
            reason = str(error)

        delay = target.backoff * 2**attempt
        logger.warning(
            "LRS send failed (%s); retry %d of %d in %.1f s",
            reason,
            attempt + 1,
            target.retries,
            delay,
        )
        time.sleep(delay)


def _post(target: LrsTarget, batch: list[dict[str, Any]]) -> None:
    url = target.endpoint.rstrip("/") + "/statements"
    request = urllib.request.Request(
        url,
        data=json.dumps(batch).encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Experience-API-Version": XAPI_VERSION,
        },
    )
    if target.username or target.password:
        token = f"{target.username}:{target.password}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(token).decode())
    with urllib.request.urlopen(request, timeout=target.timeout) as response:
        response.read()
