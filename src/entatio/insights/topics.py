"""Topics of slides: authors' tags, and suggestions from a topic model.

Suggestions come from TF-IDF and non-negative matrix factorization over each
slide's title, description, text and notes; a topic's label is made from its
top terms until a person edits it. A slide an author has tagged keeps only
the author's topics, whatever the model says; a copied slide without topics
of its own takes those of the slide it was copied from.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer

from entatio.insights.models import SlideTopic, Topic
from entatio.library.models import Slide
from entatio.people.models import Member, Organization

logger = logging.getLogger(__name__)

TOP_TERMS = 8
LABEL_TERMS = 3
# A slide gets every topic holding at least this share of its weight.
MIN_TOPIC_SHARE = 0.3
# A new component continues an old suggested topic sharing this many terms.
SAME_TOPIC_OVERLAP = 0.4
MAX_LINEAGE_DEPTH = 20


class TopicError(ValueError):
    """A topic change that cannot be made, with what to fix."""


@dataclass
class Suggestion:
    topics: list[Topic]
    slides_tagged: int


def slide_document(title: str, description: str, text: str, notes: str) -> str:
    # The title says most about a slide; repeating it weighs it up.
    return " ".join([title, title, description, text, notes]).strip()


def default_topic_count(documents: int) -> int:
    return int(np.clip(round(np.sqrt(documents / 2)), 2, 12))


def suggest_topics(
    organization: Organization, n_topics: int | None = None, seed: int = 0
) -> Suggestion:
    """Fit the topic model on the organization's slides and store suggestions."""
    rows = list(
        Slide.objects.filter(portal__organization=organization).values_list(
            "pk", "title", "description", "text", "notes"
        )
    )
    documents: dict[str, list[int]] = defaultdict(list)
    for pk, *parts in rows:
        document = slide_document(*parts)
        if document:
            documents[document].append(pk)
    if len(documents) < 2:
        return Suggestion([], 0)

    texts = list(documents)
    weights, top_terms = _fit(texts, n_topics or default_topic_count(len(texts)), seed)
    with transaction.atomic():
        topics = _store_topics(organization, top_terms)
        tagged = _store_slide_topics(organization, texts, documents, weights, topics)
    logger.info(
        "Suggested %d topics over %d slides of %s",
        len(topics),
        tagged,
        organization.slug,
    )
    return Suggestion(topics, tagged)


def _fit(
    texts: list[str], n_topics: int, seed: int
) -> tuple[np.ndarray, list[list[str]]]:
    vectorizer = TfidfVectorizer(
        stop_words="english",
        sublinear_tf=True,
        max_df=0.7 if len(texts) >= 10 else 1.0,
        min_df=2 if len(texts) >= 20 else 1,
        token_pattern=r"(?u)\b[^\W\d_][^\W\d_]+\b",
    )
    matrix = vectorizer.fit_transform(texts)
    n_topics = max(1, min(n_topics, matrix.shape[0], matrix.shape[1]))
    model = NMF(n_components=n_topics, init="nndsvda", random_state=seed, max_iter=500)
    weights = model.fit_transform(matrix)

    vocabulary = vectorizer.get_feature_names_out()
    top_terms = [
        [str(vocabulary[i]) for i in np.argsort(component)[::-1][:TOP_TERMS]]
        for component in model.components_
    ]
    return weights, top_terms


def label_of(terms: list[str]) -> str:
    return ", ".join(terms[:LABEL_TERMS]).capitalize()


def _store_topics(
    organization: Organization, top_terms: list[list[str]]
) -> list[Topic]:
    """One topic per component, continuing old suggested topics that match."""
    previous = list(
        Topic.objects.filter(organization=organization, origin=Topic.Origin.SUGGESTED)
    )
    kept: list[Topic] = []
    for terms in top_terms:
        topic = _best_match(terms, [t for t in previous if t not in kept])
        if topic is None:
            topic = Topic(
                organization=organization, origin=Topic.Origin.SUGGESTED, label=""
            )
        topic.terms = terms
        if not topic.label_edited:
            topic.label = label_of(terms)
        topic.save()
        kept.append(topic)

    stale = [t.pk for t in previous if t not in kept]
    # A stale topic a person named or tagged with stays; the rest go.
    Topic.objects.filter(pk__in=stale, label_edited=False).exclude(
        slides__origin=SlideTopic.Origin.AUTHOR
    ).delete()
    return kept


def _best_match(terms: list[str], candidates: list[Topic]) -> Topic | None:
    def overlap(topic: Topic) -> float:
        theirs = set(topic.terms)
        return len(theirs & set(terms)) / max(1, len(theirs | set(terms)))

    best = max(candidates, key=overlap, default=None)
    return best if best is not None and overlap(best) >= SAME_TOPIC_OVERLAP else None


def _store_slide_topics(
    organization: Organization,
    texts: list[str],
    slides_of_text: dict[str, list[int]],
    weights: np.ndarray,
    topics: list[Topic],
) -> int:
    totals = weights.sum(axis=1, keepdims=True)
    shares = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
    new_rows: list[SlideTopic] = []
    for row, text in enumerate(texts):
        chosen = np.flatnonzero(shares[row] >= MIN_TOPIC_SHARE)
        for slide_id in slides_of_text[text]:
            new_rows.extend(
                SlideTopic(
                    slide_id=slide_id,
                    topic=topics[i],
                    origin=SlideTopic.Origin.SUGGESTED,
                    weight=float(shares[row, i]),
                )
                for i in chosen
            )

    SlideTopic.objects.filter(
        slide__portal__organization=organization, origin=SlideTopic.Origin.SUGGESTED
    ).delete()
    SlideTopic.objects.bulk_create(new_rows, batch_size=1000)
    return len({r.slide_id for r in new_rows})


def create_topic(organization: Organization, label: str) -> Topic:
    label = label.strip()
    if not label:
        raise TopicError("A topic needs a label, e.g. 'Versioning'.")
    return Topic.objects.create(
        organization=organization,
        label=label[:120],
        origin=Topic.Origin.AUTHOR,
        label_edited=True,
    )


def rename_topic(topic: Topic, label: str) -> Topic:
    """A person's label, kept from now on over the model's."""
    label = label.strip()
    if not label:
        raise TopicError("A topic needs a label; give it a few words.")
    topic.label = label[:120]
    topic.label_edited = True
    topic.save(update_fields=["label", "label_edited"])
    return topic


def tag_slide(slide: Slide, topic: Topic, by: Member | None = None) -> SlideTopic:
    """An author's tag; from now on the slide's suggestions no longer count."""
    if topic.organization_id != slide.portal.organization_id:
        raise TopicError("The topic belongs to another organization.")
    tag, _ = SlideTopic.objects.get_or_create(
        slide=slide,
        topic=topic,
        origin=SlideTopic.Origin.AUTHOR,
        defaults={"tagged_by": by, "weight": 1.0},
    )
    return tag


def untag_slide(slide: Slide, topic: Topic) -> None:
    SlideTopic.objects.filter(
        slide=slide, topic=topic, origin=SlideTopic.Origin.AUTHOR
    ).delete()


def effective_slide_topics(organization: Organization) -> list[tuple[int, int]]:
    """(slide, topic) pairs that count: authors' tags win, copies inherit."""
    own: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for slide_id, topic_id, origin in SlideTopic.objects.filter(
        topic__organization=organization
    ).values_list("slide_id", "topic_id", "origin"):
        own[slide_id][origin].add(topic_id)

    def topics_of(tags: dict[str, set[int]]) -> set[int]:
        return tags.get(SlideTopic.Origin.AUTHOR) or tags.get(
            SlideTopic.Origin.SUGGESTED, set()
        )

    parents = dict(
        Slide.objects.filter(portal__organization=organization).values_list(
            "pk", "copied_from_id"
        )
    )
    pairs: list[tuple[int, int]] = []
    for slide_id in parents:
        found: set[int] = set()
        current: int | None = slide_id
        for _ in range(MAX_LINEAGE_DEPTH):
            if current is None:
                break
            found = topics_of(own.get(current, {}))
            if found:
                break
            current = parents.get(current)
        pairs.extend((slide_id, topic_id) for topic_id in sorted(found))
    return pairs
