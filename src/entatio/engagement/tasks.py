from django_tasks import task

from entatio.engagement.access import sync_records


@task()
def sync_records_task(presentation_ids: list[int]) -> dict[str, int]:
    created, archived = sync_records(presentation_ids)
    return {"created": created, "archived": archived}
