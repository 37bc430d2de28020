"""Complaint categories: multi-label, per industry, from ``nlp/rules/<lang>/taxonomy/<industry>.yml``."""

from __future__ import annotations

import re
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from nlp.components.base import DEFAULT_LANGUAGE, TAXONOMY_DIR, _compile, load_yaml, state
from nlp.components.prefilter import Prefilter

NEVER = re.compile(r"(?!)")


def load_taxonomies(directory: str) -> tuple[dict[str, list[tuple[str, re.Pattern[str], re.Pattern[str]]]],
                                             dict[str, str | None]]:
    """Per industry: each category's strong and weak compiled patterns, and the category of complaints that
    match none (``null``: such complaints are left without a category)."""
    taxonomies, fallbacks = {}, {}
    for path in sorted(Path(directory).glob("*.yml")):
        spec = load_yaml(str(path))
        taxonomies[spec["industry"]] = [(name, _compile(cat["patterns"]),
                                         _compile(cat["weak"]) if cat.get("weak") else NEVER)
                                        for name, cat in spec["categories"].items()]
        fallbacks[spec["industry"]] = spec.get("fallback")
    if "generic" not in taxonomies:
        raise ValueError(f"taxonomy folder {directory} has no generic.yml; the fallback taxonomy is required")
    return taxonomies, fallbacks


def _any_of(categories: list[tuple[str, re.Pattern[str], re.Pattern[str]]], weak: bool) -> re.Pattern[str]:
    """One pattern that matches where any of the categories' strong patterns (and, with ``weak``, weak ones) does."""
    return re.compile("|".join(f"(?:{p.pattern})" for _, strong, weak_pattern in categories
                               for p in ((strong, weak_pattern) if weak else (strong,)) if p is not NEVER))


class ComplaintCategories:
    """Multi-label complaint categories for every industry taxonomy, strongest match first.

    Precision first: a category's ``patterns`` name it unambiguously and count twice; its ``weak`` cues (a bare
    "bag", "app", "food") count once and not on praise, so "love the new app" is not filed under app failures
    (weak cues on complaints only was measured too: it loses the many complaints whose tone reads neutral).
    A complaint that matches nothing gets the taxonomy's ``fallback``, which is ``null`` (no category) where a
    wrong guess would be worse than none.

    Each language folder may hold its own ``taxonomy/`` with the same category names (``nlp/rules/es/taxonomy``):
    a post is matched by its language's taxonomy of the industry, else by the default language's.

    The post's industry is known only downstream (from its brand), so the component records the
    categories of every taxonomy; :func:`nlp.annotate.categories_for` picks the right one.
    """

    def __init__(self, taxonomy_dir: str) -> None:
        directory = Path(taxonomy_dir if Path(taxonomy_dir).is_dir() else str(TAXONOMY_DIR))
        self.taxonomies, self.fallbacks = load_taxonomies(str(directory))
        self.by_language = {DEFAULT_LANGUAGE: self.taxonomies}
        for other in sorted(directory.parent.parent.glob("*/taxonomy")):
            if other.parent.name != DEFAULT_LANGUAGE and other.resolve() != directory.resolve():
                self.by_language[other.parent.name] = load_taxonomies(str(other))[0]
        # a post that matches no category of a taxonomy (most questions, praise, chatter) is found so in one scan
        # (praise, which weak cues do not count on, is checked against the strong patterns only)
        self.any_category = {(lang, industry, weak): _any_of(categories, weak)
                             for lang, taxonomies in self.by_language.items()
                             for industry, categories in taxonomies.items() for weak in (False, True)}
        # where Hyperscan is installed, one scan of a post tells which patterns of every taxonomy can match it
        self.prefilters = {lang: Prefilter({(industry, order, kind): p
                                            for industry, categories in taxonomies.items()
                                            for order, (_, strong, weak) in enumerate(categories)
                                            for kind, p in (("strong", strong), ("weak", weak)) if p is not NEVER})
                           for lang, taxonomies in self.by_language.items()}

    def __call__(self, doc: Doc, industries: list[str] | None = None) -> Doc:
        """``industries`` limits the taxonomies matched (``nlp.pipe(component_cfg=...)``); default: all."""
        st = state(doc)
        text = (st["text_redacted"] or st["text"]).lower()
        complaint = st["sentiment_label"] == "negative"
        not_praise = st["sentiment_label"] != "positive"
        own = self.by_language.get(DEFAULT_LANGUAGE if st["is_english"] else st["lang"], {})
        possible: dict[str, set | frozenset] = {}
        hits: dict[str, list[str]] = {}
        for industry in industries or self.taxonomies:
            known = industry if self.taxonomies.get(industry) else "generic"
            lang = DEFAULT_LANGUAGE if st["is_english"] or known not in own else st["lang"]
            categories = self.by_language[lang][known]
            found = []
            # the patterns that can match: Hyperscan's scan where installed, else all of them when one does
            prefilter = self.prefilters[lang]
            if prefilter.active:
                if lang not in possible:
                    possible[lang] = prefilter.candidates(text)
                can = possible[lang]
            else:
                can = prefilter.keys if self.any_category[lang, known, not_praise].search(text) else frozenset()
            if can:
                counts = [((2 * len(strong.findall(text)) if (known, order, "strong") in can else 0)
                           + (len(weak.findall(text)) if not_praise and (known, order, "weak") in can else 0),
                           order, name) for order, (name, strong, weak) in enumerate(categories)]
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
