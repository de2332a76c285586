"""Access to what only the web pages show: the uploads behind presentations."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from entatio.engagement.access import visible_presentations
from entatio.library.models import Source
from entatio.people.models import Member


def source_for(member: Member, source_id: int) -> Source:
    """An upload of the member's portal, for authors.

    A member who may see a presentation made from it learns it exists (403);
    anybody else gets 404, as if there were no such upload.
    """
    source = Source.objects.filter(portal_id=member.portal_id, pk=source_id).first()
    if source is None:
        raise Http404("No such upload")
    if member.can_author:
        return source
    if visible_presentations(member).filter(source=source).exists():
        raise PermissionDenied("Only authors may follow an import.")
    raise Http404("No such upload")
