"""Complaint categories: multi-label, per industry, from ``nlp/rules/<lang>/taxonomy/<industry>.yml``."""

from __future__ import annotations

import re
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from nlp.components.base import TAXONOMY_DIR, _compile, load_yaml, state


def load_taxonomies(directory: str) -> tuple[dict[str, list[tuple[str, re.Pattern[str]]]], dict[str, str | None]]:
    """Per industry: its categories' compiled patterns, and the category of complaints that match none."""
    taxonomies, fallbacks = {}, {}
    for path in sorted(Path(directory).glob("*.yml")):
        spec = load_yaml(str(path))
        taxonomies[spec["industry"]] = [(name, _compile(cat["patterns"])) for name, cat in spec["categories"].items()]
        fallbacks[spec["industry"]] = spec.get("fallback")
    if "generic" not in taxonomies:
        raise ValueError(f"taxonomy folder {directory} has no generic.yml; the fallback taxonomy is required")
    return taxonomies, fallbacks


def _any_of(categories: list[tuple[str, re.Pattern[str]]]) -> re.Pattern[str]:
    """One pattern that matches where any of the categories' patterns does (an alternation of them all)."""
    return re.compile("|".join(f"(?:{pattern.pattern})" for _, pattern in categories))


class ComplaintCategories:
    """Multi-label complaint categories for every industry taxonomy, strongest match first.

    The post's industry is known only downstream (from its brand), so the component records the
    categories of every taxonomy; :func:`nlp.annotate.categories_for` picks the right one.
    """

    def __init__(self, taxonomy_dir: str) -> None:
        self.taxonomies, self.fallbacks = load_taxonomies(taxonomy_dir if Path(taxonomy_dir).is_dir()
                                                          else str(TAXONOMY_DIR))
        # a post that matches no category of a taxonomy (most questions, praise, chatter) is found so in one scan
        self.any_category = {industry: _any_of(categories) for industry, categories in self.taxonomies.items()}

    def __call__(self, doc: Doc, industries: list[str] | None = None) -> Doc:
        """``industries`` limits the taxonomies matched (``nlp.pipe(component_cfg=...)``); default: all."""
        st = state(doc)
        text = (st["text_redacted"] or st["text"]).lower()
        complaint = st["sentiment_label"] == "negative"
        hits: dict[str, list[str]] = {}
        for industry in industries or self.taxonomies:
            known = industry if self.taxonomies.get(industry) else "generic"
            categories = self.taxonomies[known]
            found = []
            if self.any_category[known].search(text):
                counts = [(len(pattern.findall(text)), order, name) for order, (name, pattern) in enumerate(categories)]
                found = [name for n, _, name in sorted(counts, key=lambda c: (-c[0], c[1])) if n]
            fallback = self.fallbacks.get(industry) if industry in self.taxonomies else self.fallbacks.get("generic")
            if not found and complaint and fallback:
                found = [fallback]
            hits[industry] = found
        st["category_hits"] = hits
        return doc


@Language.factory("socialcx_categories", default_config={"taxonomy_dir": str(TAXONOMY_DIR)})
def make_categories(nlp: Language, name: str, taxonomy_dir: str) -> ComplaintCategories:
    return ComplaintCategories(taxonomy_dir)
