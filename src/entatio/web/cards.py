"""Text cards written in Markdown, turned into HTML that is safe to show."""

import nh3
from markdown_it import MarkdownIt

# Raw HTML in a card is shown as text; the sanitizer below is the second
# line, for whatever a Markdown construct could still produce.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr",
    "th", "td",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}


def card_html(text: str) -> str:
    """The card's Markdown as sanitized HTML."""
    return nh3.clean(
        _MARKDOWN.render(text),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
