"""Charts drawn on the server as SVG: no script, no network, prints well."""

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
BAR_HEIGHT = 18
GAP = 6
LABEL_WIDTH = 220


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    baseline: float | None = None,
    percent: bool = False,
) -> SafeString:
    """Horizontal bars, one a label; a dashed line marks the overall figure."""
    if not values:
        return mark_safe("")
    top = max([*values, baseline or 0, 1e-9])
    span = WIDTH - LABEL_WIDTH - 60
    height = len(values) * (BAR_HEIGHT + GAP) + GAP
    parts = [_open(height, "Bar chart")]
    for row, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = GAP + row * (BAR_HEIGHT + GAP)
        length = span * value / top
        shown = f"{value * 100:.0f}%" if percent else f"{value:.2f}"
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 13}" text-anchor="end">'
            f"{escape(label[:34])}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" '
            f'height="{BAR_HEIGHT}" class="bar"><title>{escape(label)}: {shown}'
            f"</title></rect>"
            f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{y + 13}">{shown}</text>'
        )
    if baseline is not None:
        x = LABEL_WIDTH + span * baseline / top
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}" class="baseline">'
            "<title>overall</title></line>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def line_chart(series: dict[str, Sequence[float]], height: int = 160) -> SafeString:
    """One polyline a series over equally spaced points, oldest on the left."""
    longest = max((len(v) for v in series.values()), default=0)
    if longest < 2:
        return mark_safe("")
    top = max((max(v) for v in series.values() if len(v)), default=1) or 1
    step = (WIDTH - 20) / (longest - 1)
    parts = [_open(height + 20, "Line chart")]
    for number, (name, values) in enumerate(series.items()):
        offset = longest - len(values)
        points = " ".join(
            f"{10 + (offset + i) * step:.1f},{10 + height * (1 - v / top):.1f}"
            for i, v in enumerate(values)
        )
        parts.append(
            f'<polyline points="{points}" class="line line-{number % 6}">'
            f"<title>{escape(name)}</title></polyline>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def flow_diagram(tiers: Sequence[dict], links: Sequence[dict]) -> SafeString:
    """Tiers left to right, box height by reach, links labelled with the delay."""
    if not tiers:
        return mark_safe("")
    column = WIDTH // len(tiers)
    height = 140
    parts = [_open(height + 40, "Flow diagram")]
    boxes = {}
    for number, tier in enumerate(tiers):
        x = number * column + 10
        box = max(8, height * tier["reach"])
        boxes[tier["tier"]] = (x, box)
        parts.append(
            f'<rect x="{x}" y="{height - box + 10:.1f}" width="{column - 80}" '
            f'height="{box:.1f}" class="bar"><title>{escape(tier["tier"])}: '
            f"{tier['reached']} of {tier['members']}</title></rect>"
            f'<text x="{x}" y="{height + 28}">{escape(tier["tier"])} '
            f"{tier['reach'] * 100:.0f}%</text>"
        )
    for link in links:
        if link["source"] in boxes and link["target"] in boxes:
            (x1, _), (x2, _) = boxes[link["source"]], boxes[link["target"]]
            delay = link["median_delay_days"]
            label = f"{delay:.0f} days" if delay is not None else ""
            parts.append(
                f'<path d="M{x1 + column - 80},{height / 2} C{x2 - 20},{height / 2} '
                f'{x1 + column - 60},{height / 2} {x2},{height / 2}" class="link"/>'
                f'<text x="{x2 - 70}" y="{height / 2 - 6}">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _open(height: int, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'class="chart" role="img" aria-label="{escape(label)}">'
    )
