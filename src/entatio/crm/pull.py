"""Accounts, contacts and opportunities from Salesforce, changed ones only.

Each object is read in SystemModstamp order from its high-water mark on,
and the mark moves after each page is stored. The query asks for ``>=`` the
mark, so records stamped in the same second as the last one stored are read
again rather than skipped; storing them again changes nothing.
"""

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any

from django.db import transaction

from entatio.crm.columns import CellError, record_id, stage_is_closed, stage_is_won
from entatio.crm.importing import (
    AccountIndex,
    AccountRow,
    ContactRow,
    Counts,
    OpportunityRow,
    RowProblem,
    match_members_to_contacts,
    upsert_accounts,
    upsert_contacts,
    upsert_opportunities,
)
from entatio.crm.models import PullMark
from entatio.crm.salesforce import SalesforceConnector
from entatio.people.models import Organization

logger = logging.getLogger(__name__)

PAGE = 500
STAMP = "SystemModstamp"


@dataclass(frozen=True)
class PulledObject:
    sobject: str
    fields: tuple[str, ...]
    row_of: Callable[[dict[str, Any]], Any]
    upsert: Callable[[AccountIndex, Iterable[Any]], Counts]


def _account_row(record: dict[str, Any]) -> AccountRow:
    values = {
        "industry": record.get("Industry") or "",
        "account_type": record.get("Type") or "",
        "region": record.get("BillingCountry") or "",
        "employees": record.get("NumberOfEmployees"),
        "annual_revenue": _decimal(record.get("AnnualRevenue")),
    }
    return AccountRow(None, record_id(record["Id"]), record.get("Name") or "", values)


def _contact_row(record: dict[str, Any]) -> ContactRow:
    return ContactRow(
        None,
        record_id(record["Id"]),
        (record.get("Email") or "").lower(),
        {
            "first_name": record.get("FirstName") or "",
            "last_name": record.get("LastName") or "",
            "title": record.get("Title") or "",
            "modified_at": _moment(record.get(STAMP)),
        },
        account_ref=record.get("AccountId") or "",
        has_account_column=True,
    )


def _opportunity_row(record: dict[str, Any]) -> OpportunityRow:
    stage = record.get("StageName") or ""
    close = record.get("CloseDate")
    return OpportunityRow(
        None,
        record_id(record["Id"]),
        record.get("Name") or "",
        {
            "stage": stage,
            "amount": _decimal(record.get("Amount")),
            "close_date": datetime.fromisoformat(close).date() if close else None,
            "is_won": bool(record.get("IsWon", stage_is_won(stage))),
            "is_closed": bool(record.get("IsClosed", stage_is_closed(stage))),
            "modified_at": _moment(record.get(STAMP)),
        },
        account_ref=record.get("AccountId") or "",
    )


ACCOUNT_FIELDS = (
    *("Id", "Name", "Industry", "Type", "NumberOfEmployees", "AnnualRevenue"),
    *("BillingCountry", STAMP),
)
OPPORTUNITY_FIELDS = (
    *("Id", "AccountId", "Name", "StageName", "Amount", "CloseDate", "IsWon"),
    *("IsClosed", STAMP),
)
PULLED = (
    PulledObject(
        "Account",
        ACCOUNT_FIELDS,
        _account_row,
        upsert_accounts,
    ),
    PulledObject(
        "Contact",
        ("Id", "AccountId", "Email", "FirstName", "LastName", "Title", STAMP),
        _contact_row,
        upsert_contacts,
    ),
    PulledObject(
        "Opportunity",
        OPPORTUNITY_FIELDS,
        _opportunity_row,
        upsert_opportunities,
    ),
)


def pull_changes(
    organization: Organization, connector: SalesforceConnector
) -> dict[str, Any]:
    """Read what changed since each object's mark; match members after."""
    index = AccountIndex(organization)
    pulled: dict[str, Any] = {}
    for kind in PULLED:
        pulled[kind.sobject] = _pull_object(organization, connector, index, kind)
    with transaction.atomic():
        pulled["members_matched"] = match_members_to_contacts(organization).as_dict()
    return pulled


def _pull_object(
    organization: Organization,
    connector: SalesforceConnector,
    index: AccountIndex,
    kind: PulledObject,
) -> dict[str, Any]:
    mark = PullMark.objects.filter(organization=organization, sobject=kind.sobject)
    since = mark.values_list("high_water", flat=True).first()
    soql = f"SELECT {', '.join(kind.fields)} FROM {kind.sobject}"
    if since is not None:
        soql += f" WHERE {STAMP} >= {since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
    soql += f" ORDER BY {STAMP} ASC"

    total = Counts()
    for page in _pages(connector.query_all(soql)):
        rows = [_row_or_problem(kind, record) for record in page]
        stamps = [_moment(record.get(STAMP)) for record in page]
        with transaction.atomic():
            counts = kind.upsert(index, rows)
            high = max((s for s in stamps if s is not None), default=None)
            if high is not None:
                PullMark.objects.update_or_create(
                    organization=organization,
                    sobject=kind.sobject,
                    defaults={"high_water": high},
                )
        _add(total, counts)

    for _, reason in total.errors:
        logger.warning(
            "Salesforce %s not taken: %s",
            kind.sobject,
            reason,
            extra={"organization": organization.pk},
        )
    return total.as_dict()


def _row_or_problem(kind: PulledObject, record: dict[str, Any]) -> Any:
    try:
        return kind.row_of(record)
    except (CellError, ValueError, KeyError) as error:
        return RowProblem(None, f"{kind.sobject} {record.get('Id', '?')}: {error}")


def _pages(records: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    while page := list(islice(records, PAGE)):
        yield page


def _add(total: Counts, counts: Counts) -> None:
    total.created += counts.created
    total.updated += counts.updated
    total.unchanged += counts.unchanged
    total.skipped += counts.skipped
    total.errors += [(None, reason) for _, reason in counts.errors]


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
