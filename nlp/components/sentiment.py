"""Sentiment: VADER's lexicon as one feature, plus customer-service cues from ``nlp/rules/<lang>/sentiment.yml``."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from nlp.components.base import DEFAULT_LANGUAGE, NOISE, RULES_DIR, _compile, load_yaml, state
from nlp.components.prefilter import Prefilter
from nlp.components.vader_compound import Compound

ELONGATION = re.compile(r"(\w)\1{2,}")
SHOUTED = re.compile(r"\b[A-Z]{4,}\b")  # a word in capitals (4+ letters, so not most acronyms) intensifies
SPECIAL = {"complaint", "negated_positive", "sarcasm", "gratitude", "request", "intensity"}


@cache
def vader_analyzer() -> Any:
    """One VADER analyser per process (it reads its lexicon file when built)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def count_alternation(patterns: list[re.Pattern[str]], text: str) -> int | None:
    """``len(re.findall(alternation, text))`` of the alternation of ``patterns``, in this order, without compiling
    it; None if a match is empty (findall's rules for empty matches are its own: the caller runs the alternation).

    An alternation's search takes the leftmost position where any alternative matches and, there, the first
    alternative in order that matches; the next search starts where that match ends. Each pattern's own next match
    is kept until the position passes it. The sentiment component once compiled the alternation of each set of
    patterns the prefilter reported: 800 sets in 100k posts, 1.4 ms each, a tenth of a worker's time (session 23).
    """
    found = [p.search(text) for p in patterns]
    count = pos = 0
    while True:
        best = None
        for i, match in enumerate(found):
            if match is not None and match.start() < pos:
                match = found[i] = patterns[i].search(text, pos)
            if match is not None and (best is None or match.start() < best.start()):
                best = match
        if best is None:
            return count
        if best.end() == best.start():
            return None
        count += 1
        pos = best.end()


class Sentiment:
    """VADER's lexicon as one feature, plus customer-service cues from ``rules/<lang>/sentiment.yml``.

    General lexicons read "I've been on hold for two hours" as neutral and "great, another delay" as
    positive; the cue lists correct both. Questions and requests without a complaint cue are pulled
    towards neutral. ``rules_path`` is the English cues' file; a sibling folder with its own ``sentiment.yml``
    (``nlp/rules/es/sentiment.yml``) makes another language's posts scored by its cues (VADER reads English
    only). Posts in a language without cues are left unscored.
    """

    def __init__(self, rules_path: str, vader_weight: float, negative_below: float, positive_above: float,
                 question_damping: float) -> None:
        path = Path(rules_path) if Path(rules_path).exists() else RULES_DIR / DEFAULT_LANGUAGE / "sentiment.yml"
        files = {DEFAULT_LANGUAGE: path} | {p.parent.name: p for p in sorted(path.parent.parent.glob("*/sentiment.yml"))
                                            if p.parent.name != DEFAULT_LANGUAGE}
        rules = {lang: load_yaml(str(p)) for lang, p in files.items()}
        self.packs = {lang: self._cues(pack) for lang, pack in rules.items()}
        self.cues = self.packs[DEFAULT_LANGUAGE]
        # one scan tells which of each family's patterns can match a post; only those run, each compiled alone and
        # counted as their alternation in the family's order would count (count_alternation: the same matches, since
        # a pattern that can match nowhere in the text changes no match)
        self.singles = {lang: {name: [_compile([p]) for p in pack[name]["patterns"]] for name in self.packs[lang]}
                        for lang, pack in rules.items()}
        self.prefilters = {lang: Prefilter({(name, i): p for name, compiled in families.items()
                                            for i, p in enumerate(compiled)})
                           for lang, families in self.singles.items()}
        self.vader = vader_analyzer()
        self.compound = Compound(self.vader)  # VADER's compound score, exactly, with less work
        self.vader_weight = vader_weight
        self.negative_below = negative_below
        self.positive_above = positive_above
        self.question_damping = question_damping

    @staticmethod
    def _cues(rules: dict) -> dict[str, tuple[re.Pattern[str], float]]:
        """Each cue family's pattern and weight (``amplify`` for the intensity family)."""
        return {name: (_compile(spec["patterns"]), float(spec.get("weight", spec.get("amplify", 0.0))))
                for name, spec in rules.items() if isinstance(spec, dict) and "patterns" in spec}

    def score(self, text: str, lang: str = DEFAULT_LANGUAGE) -> tuple[float, dict[str, int]]:
        cues = self.packs[lang]
        clean = ELONGATION.sub(r"\1\1", NOISE.sub(" ", text))
        lower = clean.lower()
        hits = self._hits(lang, lower)
        compound = self.compound(clean) if lang == "en" else 0.0
        sarcastic = hits["sarcasm"] > 0
        if sarcastic:  # the praise words are ironic: neither VADER's positive reading nor thanks count
            compound = min(compound, 0.0)
        score = self.vader_weight * compound
        score += cues["complaint"][1] * min(hits["complaint"], 3)
        score += cues["negated_positive"][1] * min(hits["negated_positive"], 1)
        score += cues["sarcasm"][1] * min(hits["sarcasm"], 1)
        # the other families (scare quotes, emoji, relief...) each count once, with their own weight
        score += sum(weight for name, (_, weight) in cues.items() if name not in SPECIAL and hits[name])
        gratitude = 0.0 if sarcastic else cues["gratitude"][1] * min(hits["gratitude"], 2)
        score += gratitude if hits["complaint"] == 0 else gratitude * 0.25
        if hits["request"] and not (hits["complaint"] or hits["negated_positive"] or hits["sarcasm"]):
            score *= self.question_damping
        if text.isupper() and len(text) > 12:
            score -= 0.2
        if "intensity" in cues:
            hits["intensity"] += len(SHOUTED.findall(clean))
            score *= 1 + cues["intensity"][1] * min(hits["intensity"], 2)
        return max(-1.0, min(1.0, score)), hits

    def _hits(self, lang: str, lower: str) -> dict[str, int]:
        """Each family's number of matches in ``lower``: ``len(re.findall)`` of its alternation, counted over the
        patterns the scan reports (:func:`count_alternation`)."""
        chosen: dict[str, list[int]] = {}
        for name, i in self.prefilters[lang].candidates(lower):
            chosen.setdefault(name, []).append(i)
        hits = {}
        singles = self.singles[lang]
        for name, (pattern, _) in self.packs[lang].items():
            indices = chosen.get(name)
            if not indices:
                hits[name] = 0
            elif len(indices) == 1:
                hits[name] = len(singles[name][indices[0]].findall(lower))
            else:
                count = count_alternation([singles[name][i] for i in sorted(indices)], lower)
                hits[name] = len(pattern.findall(lower)) if count is None else count
        return hits

    def __call__(self, doc: Doc) -> Doc:
        st = state(doc)
        lang = DEFAULT_LANGUAGE if st["is_english"] else st["lang"]
        if lang not in self.packs:
            st["sentiment_label"] = st["sentiment_score"] = st["sentiment_confidence"] = None
            st["cues"] = {}
            return doc
        score, hits = self.score(st["text"], lang)
        if score < self.negative_below:
            label, margin = "negative", self.negative_below - score
        elif score > self.positive_above:
            label, margin = "positive", score - self.positive_above
        else:
            label = "neutral"
            margin = min(score - self.negative_below, self.positive_above - score)
        st["sentiment_label"] = label
        st["sentiment_score"] = round(score, 4)
        st["sentiment_confidence"] = round(min(1.0, 0.5 + margin), 4)
        st["cues"] = hits
        return doc


@Language.factory("socialcx_sentiment", default_config={
    "rules_path": str(RULES_DIR / DEFAULT_LANGUAGE / "sentiment.yml"), "vader_weight": 0.6,
    "negative_below": -0.15, "positive_above": 0.3, "question_damping": 0.5,
})
def make_sentiment(nlp: Language, name: str, rules_path: str, vader_weight: float, negative_below: float,
                   positive_above: float, question_damping: float) -> Sentiment:
    return Sentiment(rules_path, vader_weight, negative_below, positive_above, question_damping)
