"""Blend: trained classifiers (``socialcx nlp train``) combined with the rules."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from nlp.components.base import state

SENTIMENT_PREFIX = "sentiment:"
CATEGORY_PREFIX = "category:"


class Blend:
    """Combines a trained ``textcat`` (labels ``sentiment:*``) with the rule sentiment, and a trained
    ``textcat_multilabel`` (labels ``category:*``) with the rule categories of ``industry``.

    Sentiment: p = (1 - rule_weight) * p_textcat + rule_weight * p_rules, where p_rules puts the rule's
    confidence on its label. Categories: the trained top category leads when its probability reaches
    ``category_threshold``, followed by the rule categories. Both numbers are tuned by ``nlp train``.
    """

    def __init__(self, rule_weight: float, category_threshold: float, industry: str) -> None:
        self.rule_weight = rule_weight
        self.category_threshold = category_threshold
        self.industry = industry

    def __call__(self, doc: Doc) -> Doc:
        st = state(doc)
        if not st["is_english"]:
            return doc
        sentiment = {k[len(SENTIMENT_PREFIX):]: v for k, v in doc.cats.items() if k.startswith(SENTIMENT_PREFIX)}
        if sentiment and st["sentiment_label"]:
            rule_label, confidence = st["sentiment_label"], st["sentiment_confidence"] or 0.5
            others = (1.0 - confidence) / max(len(sentiment) - 1, 1)
            blended = {label: (1 - self.rule_weight) * p
                       + self.rule_weight * (confidence if label == rule_label else others)
                       for label, p in sentiment.items()}
            label = max(blended, key=blended.get)
            st["sentiment_label"] = label
            st["sentiment_score"] = round(blended.get("positive", 0.0) - blended.get("negative", 0.0), 4)
            st["sentiment_confidence"] = round(min(1.0, max(0.5, blended[label])), 4)
        categories = {k[len(CATEGORY_PREFIX):]: v for k, v in doc.cats.items() if k.startswith(CATEGORY_PREFIX)}
        if categories and st["category_hits"] is not None:
            top = max(categories, key=categories.get)
            rules = [c for c in st["category_hits"].get(self.industry, []) if c != top]
            if categories[top] >= self.category_threshold:
                st["category_hits"][self.industry] = [top, *rules]
        return doc


@Language.factory("socialcx_blend", default_config={"rule_weight": 0.5, "category_threshold": 0.5,
                                                     "industry": "generic"})
def make_blend(nlp: Language, name: str, rule_weight: float, category_threshold: float, industry: str) -> Blend:
    return Blend(rule_weight, category_threshold, industry)
