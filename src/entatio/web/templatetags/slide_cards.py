"""Filters for showing slides: a card's Markdown, an HTML slide's page."""

from django import template
from django.utils.safestring import SafeString, mark_safe

from entatio.library.models import Slide
from entatio.people.models import Member
from entatio.web.cards import card_html as render_card
from entatio.web.views.media import page_url as url_of_page

register = template.Library()


@register.filter
def card_html(text: str) -> SafeString:
    # Sanitized by render_card, so it may be marked safe.
    return mark_safe(render_card(text))


@register.filter
def page_url(slide: Slide, member: Member) -> str:
    return url_of_page(slide, member)
