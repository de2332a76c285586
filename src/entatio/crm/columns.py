"""Which CSV header means which field, and how a cell becomes a value.

Headers are compared reduced to lower-case letters and digits, so one table
reads Salesforce's Data Loader exports (``AnnualRevenue``), the lower-case
sample files of Trailhead (``annualrevenue``), report exports
(``Account: Account Name``) and Maven's CRM files (``close_value``).
"""

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from entatio.crm.ids import InvalidSalesforceId, salesforce_id_18

ACCOUNT_COLUMNS = {
    "crm_id": {"id", "accountid", "accountaccountid"},
    "name": {"name", "accountname", "accountaccountname", "account"},
    "industry": {"industry", "accountindustry", "sector"},
    "account_type": {"type", "accounttype", "accountaccounttype"},
    "employees": {"numberofemployees", "employees", "accountemployees"},
    "annual_revenue": {"annualrevenue", "accountannualrevenue"},
    # Maven's accounts give revenue in millions of US dollars.
    "revenue_millions": {"revenue"},
    "region": {"billingcountry", "accountbillingcountry", "region", "officelocation"},
}
CONTACT_COLUMNS = {
    "crm_id": {"id", "contactid", "contactcontactid"},
    "account_ref": {"accountid", "accountaccountid"},
    "account_name": {"account", "accountname", "accountaccountname", "company"},
    "email": {"email", "contactemail"},
    "first_name": {"firstname", "contactfirstname"},
    "last_name": {"lastname", "contactlastname"},
    "title": {"title", "contacttitle"},
    "modified_at": {"systemmodstamp", "lastmodifieddate"},
}
OPPORTUNITY_COLUMNS = {
    "crm_id": {"id", "opportunityid", "opportunityopportunityid"},
    "account_ref": {"accountid", "accountaccountid"},
    "account_name": {"account", "accountname", "accountaccountname"},
    "name": {"name", "opportunityname", "opportunityopportunityname"},
    "stage": {"stagename", "stage", "dealstage", "opportunitystage"},
    "amount": {"amount", "closevalue", "opportunityamount"},
    "close_date": {"closedate", "opportunityclosedate"},
    "is_won": {"iswon", "won", "opportunitywon"},
    "is_closed": {"isclosed", "closed", "opportunityclosed"},
    "product": {"product", "productc"},
    "modified_at": {"systemmodstamp", "lastmodifieddate"},
}

# Cells that mean "no value" in the sample data sets.
BLANKS = {"", "n/a", "#n/a", "null", "none"}
TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f", ""}
WON_STAGES = {"closed won", "won"}
CLOSED_STAGES = WON_STAGES | {"closed lost", "lost"}
MAX_AMOUNT = Decimal("1e16")
REFERENCE_TOKEN = re.compile(r"^@([A-Za-z]+Ref\d+)$")


class CellError(ValueError):
    """A cell whose text is not a value of its field; the message says why."""


def header_key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def columns_of(headers: list[str], known: dict[str, set[str]]) -> dict[str, str]:
    """Field name for each header the table knows; the first header wins."""
    field_of_key = {key: name for name, keys in known.items() for key in keys}
    columns: dict[str, str] = {}
    for header in headers:
        name = field_of_key.get(header_key(header or ""))
        if name and name not in columns.values():
            columns[header] = name
    return columns


def text_value(text: str) -> str:
    text = text.strip()
    return "" if text.lower() in BLANKS else text


def record_id(text: str) -> str:
    """A Salesforce Id in its 18-character form; any other key as given."""
    text = text.strip()
    if len(text) in (15, 18) and text.isalnum():
        try:
            return salesforce_id_18(text)
        except InvalidSalesforceId as error:
            raise CellError(str(error)) from error
    return text


def reference_token(text: str) -> str | None:
    """``AccountRef10`` for an sfdx reference cell ``@AccountRef10``."""
    match = REFERENCE_TOKEN.match(text.strip())
    return match.group(1) if match else None


def whole_number(text: str, field: str) -> int | None:
    text = text_value(text).replace(",", "")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation as error:
        raise CellError(f"has {field} {text!r}, not a number") from error
    if not number.is_finite() or number != number.to_integral_value() or number < 0:
        raise CellError(f"has {field} {text!r}, not a whole number of zero or more")
    return int(number)


def money(text: str, field: str, scale: int = 1) -> Decimal | None:
    text = text_value(text).replace(",", "").lstrip("$")
    if not text:
        return None
    try:
        amount = Decimal(text) * scale
    except InvalidOperation as error:
        raise CellError(f"has {field} {text!r}, not an amount") from error
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise CellError(f"has {field} {text!r}, not an amount we can store")
    return amount.quantize(Decimal("0.01"))


def day(text: str, field: str) -> date | None:
    """ISO dates and date-times, and the month/day/year of report exports."""
    text = text_value(text)
    if not text:
        return None
    try:
        if re.match(r"^\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text[:10])
        if re.match(r"^\d{1,2}/\d{1,2}/\d{4}$", text):
            return datetime.strptime(text, "%m/%d/%Y").date()  # noqa: DTZ007
    except ValueError:
        pass
    raise CellError(f"has {field} {text!r}, not a date like 2024-11-30")


def moment(text: str, field: str) -> datetime | None:
    """A Salesforce time stamp (``2024-01-19T09:42:24.000+0000``), in UTC."""
    text = text_value(text)
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise CellError(f"has {field} {text!r}, not a date and time") from error
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def flag(text: str, field: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(f"has {field} {text.strip()!r}, not true or false")


def stage_is_won(stage: str) -> bool:
    return stage.strip().lower() in WON_STAGES


def stage_is_closed(stage: str) -> bool:
    return stage.strip().lower() in CLOSED_STAGES
