"""spaCy components for customer-service posts.

Each component is registered with ``@Language.factory`` and keeps its rules in data files
(``nlp/rules``, ``nlp/taxonomy``) so that analysts can change them without touching code.
Results are stored on ``Doc._`` extensions; :mod:`nlp.enrich` reads them into ``enriched.post_nlp``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import registry

from socialcx.core.pii import CARD, EMAIL, PHONE

NLP_DIR = Path(__file__).resolve().parent
TAXONOMY_DIR = NLP_DIR / "taxonomy"
RULES_DIR = NLP_DIR / "rules"

EXTENSIONS: dict[str, Any] = {
    "lang": "en", "is_english": True, "text_redacted": None, "pii_kinds": None,
    "sentiment_label": None, "sentiment_score": None, "sentiment_confidence": None,
    "category_hits": None, "intent": None,
    "is_churn_threat": False, "is_legal_safety": False, "is_public_shaming": False, "urgency": "low",
    "cues": None,
}
STATE = "socialcx"


def state(doc: Doc) -> dict[str, Any]:
    """The annotations of one post. Components read and write this dict directly: going through ``Doc._``
    costs about 2 µs per access, a third of the pipeline's time. ``doc._.<name>`` reads and writes it too."""
    data = doc.user_data.get(STATE)
    if data is None:
        data = doc.user_data[STATE] = dict(EXTENSIONS)
        data["text"] = doc.text  # Doc.text re-joins every token on each access: read it once
    return data


class TextKeepingTokenizer:
    """spaCy's tokenizer, recording the input string for the components (rebuilding it from tokens costs
    as much as a component). Everything else, serialisation included, is the wrapped tokenizer's."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer

    def __call__(self, text: str) -> Doc:
        doc = self._tokenizer(text)
        doc.user_data[STATE] = {**EXTENSIONS, "text": text}
        return doc

    def pipe(self, texts: Any, batch_size: int = 1000) -> Any:
        for text in texts:
            yield self(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tokenizer, name)


@registry.tokenizers("socialcx.Tokenizer.v1")
def create_tokenizer() -> Any:
    make_default = registry.tokenizers.get("spacy.Tokenizer.v1")()

    def make(nlp: Language) -> TextKeepingTokenizer:
        return TextKeepingTokenizer(make_default(nlp))

    return make


for _name in EXTENSIONS:
    Doc.set_extension(_name, force=True,
                      getter=lambda doc, name=_name: state(doc)[name],
                      setter=lambda doc, value, name=_name: state(doc).__setitem__(name, value))


NOISE = re.compile(r"@\w+|https?://\S+")  # handles and links carry no sentiment and no language
WORD = re.compile(r"[^\W\d_]+")


def _top_level_alternation(pattern: str) -> bool:
    """Whether ``pattern`` has a ``|`` outside every group and character class."""
    depth, in_class, escaped = 0, False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
    return False


def _compile(patterns: list[str]) -> re.Pattern[str]:
    """One alternation, matched against lower-cased text: re.IGNORECASE costs twice the time on every post.

    Neighbouring patterns that start with a word boundary share one ``\\b`` test: Python's ``re`` otherwise
    tries every alternative at every position (the complaint cues, 20 patterns: 25 -> 14 us a post). The
    order of the alternatives is kept, so the matches are the same.
    """
    lowered = [re.sub(r"(?<!\\)[A-Z]", lambda m: m.group().lower(), p) for p in patterns]
    parts: list[str] = []
    bounded: list[str] = []
    for p in lowered:
        if p.startswith(r"\b") and not _top_level_alternation(p):
            bounded.append(f"(?:{p[2:]})")
            continue
        if bounded:
            parts.append(r"\b(?:" + "|".join(bounded) + ")")
            bounded = []
        parts.append(p)
    if bounded:
        parts.append(r"\b(?:" + "|".join(bounded) + ")")
    return re.compile("|".join(f"(?:{p})" for p in parts))


@cache
def load_yaml(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# ---------------------------------------------------------------------------------------------
# language
# ---------------------------------------------------------------------------------------------
class LanguageFlagger:
    """Flags posts that are not English, from spaCy's own stop-word lists (no model download).

    A post counts as another language when it holds at least two function words that belong to that
    language's list and not to English's, and more of them than English-only function words.
    Non-English posts are left unscored downstream rather than scored by English rules.
    """

    def __init__(self, languages: list[str], min_hits: int) -> None:
        english = _stop_words("en")
        others = {code: _stop_words(code) for code in languages}
        union = set().union(*others.values())
        self.english_only = set(english) - union
        self.others = {code: words - set(english) for code, words in others.items()}
        self.min_hits = min_hits

    def __call__(self, doc: Doc) -> Doc:
        st = state(doc)
        words = WORD.findall(NOISE.sub(" ", st["text"]).lower())
        english = len(self.english_only.intersection(words))
        best_code, best = "en", 0
        for code, stops in self.others.items():
            hits = sum(w in stops for w in words) if english < self.min_hits else len(stops.intersection(words))
            if hits > best:
                best_code, best = code, hits
        if best >= self.min_hits and best > english:
            st["lang"], st["is_english"] = best_code, False
        else:
            st["lang"], st["is_english"] = "en", True
        return doc


def _stop_words(code: str) -> set[str]:
    """spaCy's stop-word list for a language, read from its module file alone: importing
    ``spacy.lang.<code>.stop_words`` first imports the language package, and French's compiles tokenizer
    exceptions for 3 s (on every pipeline load, in every enrichment worker)."""
    import importlib.util

    import spacy.lang

    path = Path(spacy.lang.__file__).parent / code / "stop_words.py"
    spec = importlib.util.spec_from_file_location(f"_socialcx_stop_words_{code}", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"spaCy has no stop-word list for language {code!r} ({path})")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return set(module.STOP_WORDS)


@Language.factory("socialcx_language", default_config={"languages": ["es", "fr", "de", "pt", "it", "nl"], "min_hits": 2})
def make_language_flagger(nlp: Language, name: str, languages: list[str], min_hits: int) -> LanguageFlagger:
    return LanguageFlagger(languages, min_hits)


# ---------------------------------------------------------------------------------------------
# PII redaction
# ---------------------------------------------------------------------------------------------
REFERENCE = re.compile(
    r"\b(?:(?:order|booking|confirmation|reservation|ref(?:erence)?|pnr|locator|case|ticket)\s*"
    r"(?:#|no\.?|number|num|code|id|is|:)*\s*[:#]?\s*)([A-Z0-9][A-Z0-9-]{4,})\b"
    r"|\b([A-Z]{2,4}\d{5,10})\b|#(\d{6,})\b",
    re.IGNORECASE,
)


DIGITS = re.compile(r"\d")


def _luhn(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


class PIIRedactor:
    """Replaces e-mails, card numbers, phone numbers and order/booking references with placeholders."""

    def __call__(self, doc: Doc) -> Doc:
        st = state(doc)
        text, kinds = st["text"], []

        def sub(pattern: re.Pattern[str], label: str, check=None) -> None:
            nonlocal text

            def repl(match: re.Match[str]) -> str:
                if check and not check(match):
                    return match.group(0)
                kinds.append(label)
                whole = match.group(0)
                groups = [g for g in match.groups() if g] if match.groups() else []
                return whole.replace(groups[0], f"[{label}]") if groups else f"[{label}]"

            text = pattern.sub(repl, text)

        if "@" in text and "." in text:
            sub(EMAIL, "EMAIL")
        if DIGITS.search(text):  # cards, phones and references all hold digits; most posts have none
            sub(CARD, "CARD", lambda m: 13 <= len(re.sub(r"\D", "", m.group(0))) <= 19
                and _luhn(re.sub(r"\D", "", m.group(0))))
            sub(PHONE, "PHONE")
            sub(REFERENCE, "REF", lambda m: any(ch.isdigit() for ch in (m.group(1) or m.group(2) or m.group(3) or "")))
        st["text_redacted"] = text
        st["pii_kinds"] = sorted(set(kinds))
        return doc


@Language.factory("socialcx_pii")
def make_pii_redactor(nlp: Language, name: str) -> PIIRedactor:
    return PIIRedactor()


# ---------------------------------------------------------------------------------------------
# sentiment
# ---------------------------------------------------------------------------------------------
ELONGATION = re.compile(r"(\w)\1{2,}")


class Sentiment:
    """VADER's lexicon as one feature, plus customer-service cues from ``rules/sentiment.yml``.

    General lexicons read "I've been on hold for two hours" as neutral and "great, another delay" as
    positive; the cue lists correct both. Questions and requests without a complaint cue are pulled
    towards neutral. Non-English posts are left unscored.
    """

    def __init__(self, rules_path: str, vader_weight: float, negative_below: float, positive_above: float,
                 question_damping: float) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        rules = load_yaml(rules_path if Path(rules_path).exists() else str(RULES_DIR / "sentiment.yml"))
        self.vader = SentimentIntensityAnalyzer()
        self.cues = {name: (_compile(spec["patterns"]), float(spec.get("weight", 0.0)))
                     for name, spec in rules.items() if isinstance(spec, dict) and "patterns" in spec}
        self.vader_weight = vader_weight
        self.negative_below = negative_below
        self.positive_above = positive_above
        self.question_damping = question_damping

    def score(self, text: str) -> tuple[float, dict[str, int]]:
        clean = ELONGATION.sub(r"\1\1", NOISE.sub(" ", text))
        lower = clean.lower()
        hits = {name: len(pattern.findall(lower)) for name, (pattern, _) in self.cues.items()}
        compound = self.vader.polarity_scores(clean)["compound"]
        sarcastic = hits["sarcasm"] > 0
        if sarcastic:  # the praise words are ironic: neither VADER's positive reading nor thanks count
            compound = min(compound, 0.0)
        score = self.vader_weight * compound
        score += self.cues["complaint"][1] * min(hits["complaint"], 3)
        score += self.cues["negated_positive"][1] * min(hits["negated_positive"], 1)
        score += self.cues["sarcasm"][1] * min(hits["sarcasm"], 1)
        gratitude = 0.0 if sarcastic else self.cues["gratitude"][1] * min(hits["gratitude"], 2)
        score += gratitude if hits["complaint"] == 0 else gratitude * 0.25
        if hits["request"] and not (hits["complaint"] or hits["negated_positive"] or hits["sarcasm"]):
            score *= self.question_damping
        if text.isupper() and len(text) > 12:
            score -= 0.2
        return max(-1.0, min(1.0, score)), hits

    def __call__(self, doc: Doc) -> Doc:
        st = state(doc)
        if not st["is_english"]:
            st["sentiment_label"] = st["sentiment_score"] = st["sentiment_confidence"] = None
            st["cues"] = {}
            return doc
        score, hits = self.score(st["text"])
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
    "rules_path": str(RULES_DIR / "sentiment.yml"), "vader_weight": 0.6,
    "negative_below": -0.15, "positive_above": 0.3, "question_damping": 0.5,
})
def make_sentiment(nlp: Language, name: str, rules_path: str, vader_weight: float, negative_below: float,
                   positive_above: float, question_damping: float) -> Sentiment:
    return Sentiment(rules_path, vader_weight, negative_below, positive_above, question_damping)


# ---------------------------------------------------------------------------------------------
# complaint categories
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# intent and urgency
# ---------------------------------------------------------------------------------------------
# matched against lower-cased text (see _compile)
QUESTION = re.compile(r"\?|^\s*(?:@\w+\s+)*(?:hi|hey|hello)?[,!\s]*(?:what|when|where|why|how|who|which|is|are|do|does|can|could|will|would)\b")
REQUEST = re.compile(r"\b(please|pls|plz|can you|could you|would you|kindly|i need|i'd like|i would like|help me)\b")
CHURN = re.compile(
    r"\b(cancel+(ing)? (my|our|the) (account|contract|subscription|service|membership|plan|line|card)|cancel+ing\b.{0,20}\btoday"
    r"|switch(ing)? (to|over)|moving to|taking my (business|money) elsewhere|done with you|leaving (you|for)"
    r"|close my account|port(ing)? my number|never (flying|fly|ordering|buying|using) (with |from )?(you|again)|find another)\b",
)
LEGAL_SAFETY = re.compile(
    r"\b(lawyer|attorney|sue|suing|lawsuit|legal action|court|small claims|regulator|ombudsman|fcc|ofcom|faa|dot"
    r"|bbb|consumer protection|safety|unsafe|dangerous|injur(y|ed|ies)|hurt|emergency|police|smoke|fire|medical)\b",
)
SHAMING = re.compile(r"\b(please (rt|retweet|share)|rt|retweet|everyone should know|boycott|going viral|news|reporter|journalist)\b"
                     r"|#\w*(fail|boycott|neveragain|worst)\w*")
URGENT = re.compile(r"\b(urgent|asap|immediately|right now|stranded|tonight|tomorrow morning)\b")
# an outage hits many customers at once: high urgency whatever the post's tone ("all of Verizon is down")
OUTAGE = re.compile(
    r"\b(?:is|are|'s|went|goes|going|been) (?:completely |totally |all )?down\b|\boutages?\b|\bdown (?:for|across) "
    r"(?:everyone|everybody|all|the whole)|\bnot working for (?:anyone|everyone|anybody|everybody)\b"
    r"|\bno (?:service|signal|internet|power) (?:at all|anywhere|for hours|since)"
)
# what the author quotes is not what they say: flags ignore quoted passages and retweeted text
QUOTED = re.compile(r'"[^"\n]{2,}"|\u201c[^\u201d]{2,}\u201d|\u00ab[^\u00bb]{2,}\u00bb|\brt @\w+:?.*$', re.DOTALL)
LETTER = re.compile(r"[^\W\d_]")
UPPER = re.compile(r"[A-Z]")


class IntentUrgency:
    """Intent (complaint, question, request, praise, other; ``unknown`` in a language the rules do not read) and
    escalation flags. Flags read the author's own words: quoted passages and retweeted text are left out."""

    def __call__(self, doc: Doc) -> Doc:
        st = state(doc)
        raw = QUOTED.sub(" ", st["text"].replace("RT @", "rt @"))
        text = raw.lower()
        label = st["sentiment_label"]
        cues = st["cues"] or {}
        if not st["is_english"]:
            # never NULL: a customer writing in Spanish still needs an answer, so the conversation stays actionable
            intent = "unknown"
        elif label == "negative":
            intent = "complaint"
        elif label == "positive" and cues.get("gratitude"):
            intent = "praise"
        elif QUESTION.search(text):
            intent = "question"
        elif REQUEST.search(text):
            intent = "request"
        elif cues.get("complaint"):
            intent = "complaint"
        else:
            intent = "other"
        st["intent"] = intent
        st["is_churn_threat"] = bool(CHURN.search(text))
        st["is_legal_safety"] = bool(LEGAL_SAFETY.search(text))
        letters = len(LETTER.findall(raw))
        shouting = letters > 15 and len(UPPER.findall(raw)) / letters > 0.7
        st["is_public_shaming"] = bool(SHAMING.search(text)) or shouting
        if st["is_legal_safety"] or st["is_churn_threat"] or (URGENT.search(text) and label == "negative"):
            urgency = "high"
        elif OUTAGE.search(text):
            urgency = "high"
        elif intent == "unknown":  # unread, so not ranked below what was read
            urgency = "medium"
        elif label == "negative" and st["is_public_shaming"]:
            urgency = "high"
        elif label == "negative":
            urgency = "medium"
        else:
            urgency = "low"
        st["urgency"] = urgency
        return doc


@Language.factory("socialcx_intent")
def make_intent(nlp: Language, name: str) -> IntentUrgency:
    return IntentUrgency()


# ---------------------------------------------------------------------------------------------
# blend: trained classifiers (socialcx nlp train) with the rules
# ---------------------------------------------------------------------------------------------
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
