"""Intent, escalation flags and urgency, from ``nlp/rules/<lang>/intent.yml``."""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from nlp.components.base import DEFAULT_LANGUAGE, pattern, rule_packs, state
from nlp.components.prefilter import Prefilter

# what the author quotes is not what they say: flags ignore quoted passages and retweeted text (in any language)
QUOTED = re.compile(r'"[^"\n]{2,}"|\u201c[^\u201d]{2,}\u201d|\u00ab[^\u00bb]{2,}\u00bb|\brt @\w+:?.*$', re.DOTALL)
LETTER = re.compile(r"[^\W\d_]")
UPPER = re.compile(r"[A-Z]")
QUOTE_MARKS = re.compile(r'"|\u201c|\u00ab|rt @')
RULES = ("question", "request", "churn", "legal_safety", "shaming", "urgent", "outage")


class IntentUrgency:
    """Intent (complaint, question, request, praise, other; ``unknown`` in a language the rules do not read) and
    escalation flags. Flags read the author's own words: quoted passages and retweeted text are left out.

    A post is read by its language's pack; flags and urgency fall back to the default language's pack, so an
    outage or a legal threat in a language without rules is still caught where it uses the same words."""

    def __init__(self) -> None:
        self.packs = {lang: {name: pattern(spec, name) for name in RULES} for lang, spec in rule_packs("intent.yml").items()}
        self.prefilters = {lang: Prefilter(rules) for lang, rules in self.packs.items()}

    def __call__(self, doc: Doc) -> Doc:
        st = state(doc)
        raw = st["text"].replace("RT @", "rt @")
        # every match of QUOTED starts with one of these marks and most posts hold none: QUOTED's own search over
        # every post was a fifth of this component's time
        if QUOTE_MARKS.search(raw):
            raw = QUOTED.sub(" ", raw)
        text = raw.lower()
        label = st["sentiment_label"]
        cues = st["cues"] or {}
        lang = DEFAULT_LANGUAGE if st["is_english"] else st["lang"]
        pack = lang if lang in self.packs else DEFAULT_LANGUAGE
        rules, possible = self.packs[pack], self.prefilters[pack].candidates(text)

        def says(name: str) -> bool:
            return name in possible and rules[name].search(text) is not None

        if lang not in self.packs or label is None:
            # never NULL: a customer writing in Spanish still needs an answer, so the conversation stays actionable
            intent = "unknown"
        elif label == "negative":
            intent = "complaint"
        elif label == "positive" and cues.get("gratitude"):
            intent = "praise"
        elif says("question"):
            intent = "question"
        elif says("request"):
            intent = "request"
        elif cues.get("complaint"):
            intent = "complaint"
        else:
            intent = "other"
        st["intent"] = intent
        st["is_churn_threat"] = says("churn")
        st["is_legal_safety"] = says("legal_safety")
        # capitals above 70% of more than 15 letters: at least 12 capitals, and most posts have fewer, so their
        # letters need no count (a list of every letter of every post was a third of this component's time)
        capitals = len(UPPER.findall(raw))
        shouting = capitals >= 12 and (letters := len(LETTER.findall(raw))) > 15 and capitals / letters > 0.7
        st["is_public_shaming"] = says("shaming") or shouting
        if st["is_legal_safety"] or st["is_churn_threat"] or (says("urgent") and label == "negative"):
            urgency = "high"
        elif says("outage"):
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
