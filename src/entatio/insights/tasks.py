from django_tasks import task

from entatio.insights.columnar import write_copy
from entatio.people.models import Organization


@task()
def refresh_copy_task(organization_id: int) -> str:
    """Write a fresh columnar copy of the organization for insights to read."""
    organization = Organization.objects.get(pk=organization_id)
    return str(write_copy(organization).folder)


@task()
def track_goals_task(organization_id: int) -> int:
    """Take today's snapshot of every goal of the organization."""
    from entatio.insights.goals import track_goals

    organization = Organization.objects.get(pk=organization_id)
    return len(track_goals(organization))
