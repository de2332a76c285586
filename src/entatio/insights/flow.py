"""Knowledge flow: how a topic travels from the product team to customers.

Portals fall in three tiers: internal portals holding original slides are
the product team's, internal portals holding copies are the success team's,
and customer, partner and event portals are the customers'. Slide lineage
(``copied_from``) ties a slide to its copies; per topic and tier the flow
gives the slides, the members with access and those who saw one (reach),
live visits (slides presented to them), when the tier first saw the topic,
and the median delay along each lineage from one tier's first view to the
next's. The result is the data of a flow diagram: nodes and links.
"""

import statistics
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise
from typing import Any

from entatio.insights.cube import Prepared

TIERS = ("product team", "success team", "customers")
INTERNAL = "internal"


def portal_tiers(prepared: Prepared) -> dict[int, str]:
    rows = prepared.connection.execute(
        """
        SELECT p.portal_id, p.kind, avg((s.copied_from_id IS NULL)::INT)
        FROM portals p LEFT JOIN slides s USING (portal_id)
        GROUP BY ALL
        """
    ).fetchall()
    tiers = {}
    for portal_id, kind, originals in rows:
        if kind != INTERNAL:
            tiers[portal_id] = TIERS[2]
        else:
            tiers[portal_id] = TIERS[0] if (originals or 0) >= 0.5 else TIERS[1]
    return tiers


def _roots(prepared: Prepared) -> dict[int, tuple[int, int]]:
    """Each slide's lineage root and portal."""
    rows = prepared.connection.execute(
        "SELECT slide_id, copied_from_id, portal_id FROM slides"
    ).fetchall()
    parent = {s: p for s, p, _ in rows}
    portal = {s: portal for s, _, portal in rows}
    roots = {}
    for slide in parent:
        root, steps = slide, 0
        while parent.get(root) is not None and steps < 50:
            root, steps = parent[root], steps + 1
        roots[slide] = (root, portal[slide])
    return roots


def knowledge_flow(
    prepared: Prepared, portal_ids: Sequence[int] | None = None
) -> dict[str, Any]:
    """Nodes (topic, tier) and links between tiers, for a flow diagram."""
    tiers = portal_tiers(prepared)
    if portal_ids is not None:
        tiers = {p: t for p, t in tiers.items() if p in set(portal_ids)}
    roots = _roots(prepared)
    topics = prepared.topics()
    per_slide = _per_slide(prepared)

    flows = []
    for topic_id, slide_ids in _slides_by_topic(prepared).items():
        nodes = _nodes(slide_ids, roots, tiers, per_slide)
        if not nodes:
            continue
        flows.append(
            {
                "topic_id": topic_id,
                "topic": topics.get(topic_id, str(topic_id)),
                "tiers": [nodes[t] for t in TIERS if t in nodes],
                "links": _links(slide_ids, roots, tiers, per_slide),
            }
        )
    return {"tiers": list(TIERS), "topics": flows}


def _slides_by_topic(prepared: Prepared) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    for slide_id, topic_id in prepared.connection.execute(
        "SELECT slide_id, topic_id FROM slide_topics ORDER BY topic_id, slide_id"
    ).fetchall():
        found[topic_id].append(slide_id)
    return found


def _per_slide(prepared: Prepared) -> dict[int, dict[str, Any]]:
    """Who had access to each slide, who saw it, when first, and live visits."""
    rows = prepared.connection.execute(
        """
        WITH access AS (
            SELECT slide_id, list(DISTINCT member_id) AS members
            FROM records GROUP BY slide_id
        ), viewed AS (
            SELECT s.slide_id, list(DISTINCT s.member_id) AS viewers,
                   min(s.seen_at) AS first_seen
            FROM seen s GROUP BY s.slide_id
        ), live AS (
            SELECT slide_id, count(DISTINCT visit_id) AS live_visits
            FROM events WHERE live GROUP BY slide_id
        )
        SELECT slide_id, coalesce(a.members, []), coalesce(v.viewers, []),
               v.first_seen, coalesce(l.live_visits, 0)
        FROM access a FULL JOIN viewed v USING (slide_id)
             LEFT JOIN live l USING (slide_id)
        """
    ).fetchall()
    return {
        slide: {"members": set(m), "viewers": set(v), "first": f, "live": n}
        for slide, m, v, f, n in rows
    }


def _nodes(
    slide_ids: list[int],
    roots: dict[int, tuple[int, int]],
    tiers: dict[int, str],
    per_slide: dict[int, dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    grouped: dict[str, list[int]] = defaultdict(list)
    for slide in slide_ids:
        tier = tiers.get(roots[slide][1]) if slide in roots else None
        if tier:
            grouped[tier].append(slide)

    nodes = {}
    for tier, slides in grouped.items():
        facts = [per_slide.get(s, {}) for s in slides]
        members = set().union(*(f.get("members", set()) for f in facts))
        viewers = set().union(*(f.get("viewers", set()) for f in facts))
        firsts = [f["first"] for f in facts if f.get("first")]
        nodes[tier] = {
            "tier": tier,
            "slides": len(slides),
            "members": len(members),
            "reached": len(viewers & members) or len(viewers),
            "reach": round(len(viewers & members) / len(members), 4) if members else 0,
            "live_visits": sum(f.get("live", 0) for f in facts),
            "first_seen": min(firsts).isoformat() if firsts else None,
        }
    return nodes


def _links(
    slide_ids: list[int],
    roots: dict[int, tuple[int, int]],
    tiers: dict[int, str],
    per_slide: dict[int, dict[str, Any]],
) -> list[dict[str, Any]]:
    """Per pair of tiers: lineages that reached both, and the median delay."""
    first: dict[int, dict[str, datetime]] = defaultdict(dict)
    slides_in: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for slide in slide_ids:
        if slide not in roots:
            continue
        root, portal = roots[slide]
        tier = tiers.get(portal)
        if tier is None:
            continue
        slides_in[root][tier] += 1
        seen_at = per_slide.get(slide, {}).get("first")
        if seen_at and (tier not in first[root] or seen_at < first[root][tier]):
            first[root][tier] = seen_at

    links = []
    for source, target in pairwise(TIERS):
        lineages = [r for r, t in slides_in.items() if source in t and target in t]
        delays = [
            (first[r][target] - first[r][source]).total_seconds() / 86_400
            for r in lineages
            if source in first[r] and target in first[r]
        ]
        if lineages:
            links.append(
                {
                    "source": source,
                    "target": target,
                    "lineages": len(lineages),
                    "median_delay_days": round(statistics.median(delays), 1)
                    if delays
                    else None,
                }
            )
    return links
