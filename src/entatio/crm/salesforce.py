"""Calls to Salesforce through simple-salesforce, with the connector's policy.

Every call goes through ``SalesforceConnector.call``, which signs in again
once when the session has expired (401 INVALID_SESSION_ID), retries with
exponential backoff on 5xx answers, timeouts, lost connections and
REQUEST_LIMIT_EXCEEDED, and turns what is left into three errors: the
service is unavailable, a limit holds, or the request itself is wrong.
"""

import csv
import io
import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
)

from entatio.crm.auth import AuthenticationFailed, request_access_token
from entatio.crm.config import SalesforceConfig
from entatio.crm.http import salesforce_session

logger = logging.getLogger(__name__)

T = TypeVar("T")
BULK_NULL = "#N/A"
LIMIT_CODES = {"REQUEST_LIMIT_EXCEEDED", "TOO_MANY_REQUESTS"}


class SalesforceUnavailable(RuntimeError):
    """5xx, timeouts or lost connections after every retry; try again later."""


class SalesforceLimitReached(RuntimeError):
    """An API request limit still held after every retry; wait for it."""


class SalesforceRejected(RuntimeError):
    """Salesforce refused the request itself; retrying the same will not help."""


@dataclass(frozen=True)
class RowResult:
    """What Salesforce said about one upserted row."""

    external_id: str
    ok: bool
    created: bool = False
    salesforce_id: str = ""
    error: str = ""


class SalesforceConnector:
    def __init__(
        self,
        config: SalesforceConfig,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.http = salesforce_session(config)
        self.sleep = sleep
        self._client: Salesforce | None = None
        self.calls = 0
        self.logins = 0

    def client(self) -> Salesforce:
        if self._client is None:
            token = request_access_token(self.http, self.config)
            self.logins += 1
            self._client = Salesforce(
                session_id=token.token,
                instance_url=token.instance_url,
                session=self.http,
                version=self.config.api_version,
            )
        return self._client

    def call(self, action: Callable[[Salesforce], T], what: str) -> T:
        """Run one request with the retry policy of the module docstring."""
        signed_in_again = False
        attempt = 0
        while True:
            attempt += 1
            self.calls += 1
            try:
                return action(self.client())
            except SalesforceExpiredSession:
                if signed_in_again:
                    raise SalesforceRejected(
                        f"{what}: Salesforce refused a fresh session; check the "
                        "integration user's access."
                    ) from None
                logger.info("Salesforce session expired during %s; signing in", what)
                self._client = None
                signed_in_again = True
                attempt -= 1
                continue
            except AuthenticationFailed as error:
                if not error.transient:
                    raise
                failure: Exception = SalesforceUnavailable(f"{what}: {error}")
            except Exception as error:
                failure = classify(error, what)
                if isinstance(failure, SalesforceRejected):
                    raise failure from error

            if attempt >= self.config.max_attempts:
                raise failure
            delay = self.backoff(attempt)
            logger.warning(
                "Salesforce %s failed (%s); retry %d in %.1f s",
                what,
                failure,
                attempt,
                delay,
            )
            self.sleep(delay)

    def backoff(self, attempt: int) -> float:
        """Exponential, with jitter so that workers do not retry in step."""
        ceiling = self.config.backoff_seconds * 2 ** (attempt - 1)
        ceiling = min(ceiling, self.config.backoff_max_seconds)
        return random.uniform(ceiling / 2, ceiling)

    # Reading ---------------------------------------------------------------

    def query_all(self, soql: str) -> Iterator[dict[str, Any]]:
        """The records of a query, page by page (query, then queryMore)."""
        page = self.call(lambda sf: sf.query(soql), "query")
        while True:
            yield from page["records"]
            if page.get("done", True):
                return
            page = self.call(_next_page(page["nextRecordsUrl"]), "queryMore")

    # Writing ---------------------------------------------------------------

    def upsert_one(
        self, sobject: str, id_field: str, external_id: str, fields: dict[str, Any]
    ) -> RowResult:
        """One row through the sObject upsert by external id."""
        path = f"{id_field}/{quote(external_id, safe='')}"
        # The external id goes in the URL only; Salesforce refuses it in the body.
        body = rest_fields({k: v for k, v in fields.items() if k != id_field})

        def send(sf: Salesforce) -> Any:
            return getattr(sf, sobject).upsert(path, body, raw_response=True)

        try:
            response = self.call(send, f"upsert of {sobject}")
        except SalesforceRejected as rejection:
            cause = rejection.__cause__
            if isinstance(cause, SalesforceMalformedRequest):
                return RowResult(external_id, ok=False, error=error_text(cause))
            raise
        answer = response.json() if response.content else {}
        return RowResult(
            external_id,
            ok=True,
            created=response.status_code == 201,
            salesforce_id=answer.get("id", "") if isinstance(answer, dict) else "",
        )

    def upsert_collection(
        self, sobject: str, id_field: str, rows: list[dict[str, Any]]
    ) -> list[RowResult]:
        """Up to 200 rows in one sObject Collections upsert; results in order."""
        body = {
            "allOrNone": False,
            "records": [
                {"attributes": {"type": sobject}, **rest_fields(row)} for row in rows
            ],
        }
        answers = self.call(
            lambda sf: sf.restful(
                f"composite/sobjects/{sobject}/{id_field}",
                method="PATCH",
                data=json.dumps(body),
            ),
            f"collection upsert of {sobject}",
        )
        return [
            RowResult(
                str(row[id_field]),
                ok=bool(answer.get("success")),
                created=bool(answer.get("created")),
                salesforce_id=answer.get("id") or "",
                error="; ".join(
                    f"{e.get('statusCode', '')}: {e.get('message', '')}"
                    for e in answer.get("errors", [])
                ),
            )
            for row, answer in zip(rows, answers or [], strict=True)
        ]

    def bulk_upsert(
        self, sobject: str, id_field: str, rows: list[dict[str, Any]]
    ) -> list[RowResult]:
        """Rows through a Bulk API 2.0 ingest job, with each row's own result.

        A row in neither the successful nor the failed results (the job was
        aborted part way) is left out, so the caller keeps it to send again.
        """
        records = [bulk_fields(row) for row in rows]
        jobs = self.call(
            lambda sf: getattr(sf.bulk2, sobject).upsert(
                records=records,
                external_id_field=id_field,
                wait=self.config.poll_seconds,
            ),
            f"bulk upsert of {sobject}",
        )

        results: list[RowResult] = []
        for job in jobs:
            job_id = job["job_id"]
            ingest = _BulkJobResults(sobject, job_id)
            succeeded = self.call(ingest.successful, "bulk results")
            failed = self.call(ingest.failed, "bulk failed results")
            results += _bulk_results(succeeded, id_field, ok=True)
            results += _bulk_results(failed, id_field, ok=False)
        return results


def classify(error: Exception, what: str) -> Exception:
    """The connector's error for whatever a call raised."""
    if isinstance(error, requests.Timeout | requests.ConnectionError):
        return SalesforceUnavailable(f"{what}: {type(error).__name__}")
    if isinstance(error, SalesforceGeneralError) and error.status >= 500:
        return SalesforceUnavailable(f"{what}: HTTP {error.status}")
    if not isinstance(error, SalesforceError):
        return SalesforceRejected(f"{what}: {type(error).__name__}: {error}")
    if _error_codes(error) & LIMIT_CODES or error.status == 429:
        return SalesforceLimitReached(f"{what}: {error_text(error)}")
    return SalesforceRejected(f"{what}: HTTP {error.status}: {error_text(error)}")


def _error_codes(error: SalesforceError) -> set[str]:
    content = error.content
    if isinstance(content, list):
        return {str(item.get("errorCode", "")) for item in content if item}
    return set()


def error_text(error: SalesforceError) -> str:
    """Salesforce's error codes and messages, without the request's URL."""
    content = error.content
    if isinstance(content, list):
        return "; ".join(
            f"{item.get('errorCode', '')}: {item.get('message', '')}"
            for item in content
            if isinstance(item, dict)
        )
    return str(content)[:500]


def rest_fields(row: dict[str, Any]) -> dict[str, Any]:
    """Flat ``Lookup__r.Ext__c`` keys as the nested objects REST expects.

    A relation without a value is left out: it cannot be cleared by external
    id, and every relation the push sends is required anyway.
    """
    body: dict[str, Any] = {}
    for key, value in row.items():
        if "." not in key:
            body[key] = value
        elif value is not None:
            relation, id_field = key.split(".", 1)
            body[relation] = {id_field: value}
    return body


def bulk_fields(row: dict[str, Any]) -> dict[str, str]:
    """Bulk CSV cells: ``#N/A`` clears a field, booleans are true or false."""
    cells: dict[str, str] = {}
    for key, value in row.items():
        if value is None:
            cells[key] = "" if "." in key else BULK_NULL
        elif isinstance(value, bool):
            cells[key] = "true" if value else "false"
        else:
            cells[key] = str(value)
    return cells


def _bulk_results(text: str, id_field: str, ok: bool) -> list[RowResult]:
    if not text.strip():
        return []
    return [
        RowResult(
            row.get(id_field, ""),
            ok=ok,
            created=row.get("sf__Created", "").lower() == "true",
            salesforce_id=row.get("sf__Id", ""),
            error=row.get("sf__Error", ""),
        )
        for row in csv.DictReader(io.StringIO(text))
    ]


def _next_page(url: str) -> Callable[[Salesforce], Any]:
    """The request for one more page of a query, bound to its address."""

    def query_more(sf: Salesforce) -> Any:
        return sf.query_more(url, identifier_is_url=True)

    return query_more


@dataclass(frozen=True)
class _BulkJobResults:
    """The result requests of one Bulk API 2.0 job, bound to it."""

    sobject: str
    job_id: str

    def successful(self, sf: Salesforce) -> Any:
        return getattr(sf.bulk2, self.sobject).get_successful_records(self.job_id)

    def failed(self, sf: Salesforce) -> Any:
        return getattr(sf.bulk2, self.sobject).get_failed_records(self.job_id)
