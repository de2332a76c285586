"""Made-up PowerPoint decks for the demo, written with python-pptx."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pptx import Presentation as PptxDocument
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.util import Emu, Pt

TITLE_LAYOUT = 0
TITLE_AND_CONTENT_LAYOUT = 1


@dataclass(frozen=True)
class DemoSlide:
    title: str
    bullets: tuple[str, ...] = ()
    notes: str = ""
    hidden: bool = False


@dataclass(frozen=True)
class DemoDeck:
    file_name: str
    title: str
    subtitle: str
    slides: tuple[DemoSlide, ...] = field(default_factory=tuple)
    colour: str = "1F6FEB"


DECKS = (
    DemoDeck(
        "getting-started.pptx",
        "Getting started with Northwind Cloud",
        "Onboarding for new customer teams",
        (
            DemoSlide(
                "Your first week",
                (
                    "Sign in with single sign-on",
                    "Invite your team",
                    "Connect a data source",
                ),
                "Walk through the checklist; most teams finish it in two days.",
            ),
            DemoSlide(
                "Connecting your data",
                (
                    "Warehouse connectors",
                    "CSV upload for quick trials",
                    "Scheduled refresh every hour",
                ),
                "Show the connector gallery and the refresh settings.",
            ),
            DemoSlide(
                "Dashboards that answer questions",
                (
                    "Start from a template",
                    "Filter by account and region",
                    "Share a link, not a screenshot",
                ),
                "Open the revenue template and filter it live.",
            ),
            DemoSlide(
                "Internal: pricing guidance",
                ("Discount bands by segment", "Approval needed above 20%"),
                "For the account team only; hidden from customers.",
                hidden=True,
            ),
            DemoSlide(
                "Where to get help",
                (
                    "Help centre and community",
                    "Your customer success manager",
                    "Office hours every Thursday",
                ),
                "Point to the office hours calendar.",
            ),
        ),
        colour="1F6FEB",
    ),
    DemoDeck(
        "release-4-2.pptx",
        "Release 4.2: what is new",
        "For administrators and developers",
        (
            DemoSlide(
                "Row-level permissions",
                ("Rules per role and region", "Audited changes"),
                "Admins asked for this most; demo the rule editor.",
            ),
            DemoSlide(
                "A faster query engine",
                ("Dashboards load three times faster", "Caching per user group"),
                "Numbers come from the public benchmark page.",
            ),
            DemoSlide(
                "New API endpoints",
                ("Bulk export of dashboards", "Webhooks on refresh"),
                "Developers: the OpenAPI schema lists every endpoint.",
            ),
            DemoSlide(
                "Upgrading",
                ("No downtime", "Feature flags for a gradual roll-out"),
                "Upgrade windows are announced two weeks ahead.",
            ),
        ),
        colour="8250DF",
    ),
    DemoDeck(
        "security-compliance.pptx",
        "Security and compliance",
        "What your security team will ask",
        (
            DemoSlide(
                "How data is protected",
                ("Encryption at rest and in transit", "Keys rotated every 90 days"),
                "Hand out the one-page security summary.",
            ),
            DemoSlide(
                "Certifications",
                ("SOC 2 Type II", "ISO 27001", "GDPR data processing agreement"),
                "Reports are available under NDA.",
            ),
            DemoSlide(
                "Access reviews",
                ("Quarterly reviews in the admin console", "Export for auditors"),
                "Show where the export button is.",
            ),
            DemoSlide(
                "Incident response",
                ("24/7 on-call team", "Notification within 72 hours"),
                "Link to the status page subscription.",
            ),
        ),
        colour="1A7F37",
    ),
)


def write_deck(deck: DemoDeck, folder: Path) -> Path:
    """Save the deck as a .pptx file in the folder and return its path."""
    document = PptxDocument()

    cover = document.slides.add_slide(document.slide_layouts[TITLE_LAYOUT])
    cover.shapes.title.text = deck.title
    cover.placeholders[1].text = deck.subtitle
    _add_band(document, cover, deck.colour)

    for demo_slide in deck.slides:
        slide = document.slides.add_slide(
            document.slide_layouts[TITLE_AND_CONTENT_LAYOUT]
        )
        slide.shapes.title.text = demo_slide.title
        body = slide.placeholders[1].text_frame
        for number, bullet in enumerate(demo_slide.bullets):
            paragraph = body.paragraphs[0] if number == 0 else body.add_paragraph()
            paragraph.text = bullet
            paragraph.font.size = Pt(28)
        _add_band(document, slide, deck.colour)
        if demo_slide.notes:
            slide.notes_slide.notes_text_frame.text = demo_slide.notes
        if demo_slide.hidden:
            # python-pptx has no property for it; PowerPoint reads show="0".
            slide._element.set("show", "0")

    path = folder / deck.file_name
    document.save(str(path))
    return path


def _add_band(document: Any, slide: Any, colour: str) -> None:
    """A coloured band at the foot of the slide, so each deck looks its own."""
    height = Emu(document.slide_height // 14)
    band = slide.shapes.add_shape(
        MSO_SHAPE.RECTANGLE,
        0,
        document.slide_height - height,
        document.slide_width,
        height,
    )
    band.fill.solid()
    band.fill.fore_color.rgb = RGBColor.from_string(colour)
    band.line.fill.background()
