"""Live sessions in other apps' pages, without their views knowing of them."""

from django import template
from django.db.models import QuerySet

from entatio.library.models import Presentation
from entatio.live.models import LiveSession
from entatio.live.sessions import sessions_on

register = template.Library()


@register.simple_tag
def live_sessions_of(presentation: Presentation) -> QuerySet[LiveSession]:
    return sessions_on(Presentation.objects.filter(pk=presentation.pk))
