"""Keep records in step with changes made in the layers below engagement.

People and library cannot call engagement (the apps import one way), so a
change of group membership or of a presentation's slides reaches it here.
"""

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from entatio.engagement.access import schedule_sync
from entatio.engagement.models import Share
from entatio.library.models import PresentationSlide
from entatio.people.models import SharingGroup

_CHANGES = {"post_add", "post_remove", "post_clear", "pre_clear"}


@receiver(m2m_changed, sender=SharingGroup.members.through)
def group_members_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    if action not in _CHANGES:
        return
    if reverse:
        group_ids = (
            list(pk_set)
            if pk_set
            else list(instance.groups.values_list("pk", flat=True))
        )
    else:
        group_ids = [instance.pk]
    presentation_ids = list(
        Share.objects.filter(group_id__in=group_ids).values_list(
            "presentation_id", flat=True
        )
    )
    if presentation_ids:
        schedule_sync(presentation_ids)


@receiver(post_save, sender=PresentationSlide)
@receiver(post_delete, sender=PresentationSlide)
def presentation_slides_changed(
    sender: Any, instance: PresentationSlide, **kwargs: Any
) -> None:
    if Share.objects.filter(presentation_id=instance.presentation_id).exists():
        schedule_sync([instance.presentation_id])
