"""Each account's sales over time: won opportunities by month or quarter."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth, TruncQuarter

from entatio.crm.models import Opportunity
from entatio.people.models import Organization

PERIODS = {"month": TruncMonth, "quarter": TruncQuarter}


@dataclass(frozen=True)
class SalesPoint:
    account_id: int
    account: str
    period: date
    won_amount: Decimal
    won_deals: int


def sales_over_time(
    organization: Organization, period: str = "month"
) -> list[SalesPoint]:
    """Won amount and deals per account and period, by close date, in order."""
    truncate = PERIODS[period]
    rows = (
        Opportunity.objects.filter(
            organization=organization, is_won=True, close_date__isnull=False
        )
        .annotate(period=truncate("close_date"))
        .values("account_id", "account__name", "period")
        .annotate(won_amount=Sum("amount"), won_deals=Count("pk"))
        .order_by("account__name", "period")
    )
    return [
        SalesPoint(
            row["account_id"],
            row["account__name"],
            row["period"],
            row["won_amount"] or Decimal("0"),
            row["won_deals"],
        )
        for row in rows
    ]
