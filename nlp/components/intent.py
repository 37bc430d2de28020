"""Intent, escalation flags and urgency, from ``nlp/rules/<lang>/intent.yml``."""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from nlp.components.base import DEFAULT_LANGUAGE, pattern, rule_packs, state

# what the author quotes is not what they say: flags ignore quoted passages and retweeted text (in any language)
QUOTED = re.compile(r'"[^"\n]{2,}"|\u201c[^\u201d]{2,}\u201d|\u00ab[^\u00bb]{2,}\u00bb|\brt @\w+:?.*$', re.DOTALL)
LETTER = re.compile(r"[^\W\d_]")
UPPER = re.compile(r"[A-Z]")
RULES = ("question", "request", "churn", "legal_safety", "shaming", "urgent", "outage")


class IntentUrgency:
    """Intent (complaint, question, request, praise, other; ``unknown`` in a language the rules do not read) and
    escalation flags. Flags read the author's own words: quoted passages and retweeted text are left out.

    A post is read by its language's pack; flags and urgency fall back to the default language's pack, so an
    outage or a legal threat in a language without rules is still caught where it uses the same words."""

    def __init__(self) -> None:
        self.packs = {lang: {name: pattern(spec, name) for name in RULES} for lang, spec in rule_packs("intent.yml").items()}

    def __call__(self, doc: Doc) -> Doc:
        st = state(doc)
        raw = QUOTED.sub(" ", st["text"].replace("RT @", "rt @"))
        text = raw.lower()
        label = st["sentiment_label"]
        cues = st["cues"] or {}
        lang = DEFAULT_LANGUAGE if st["is_english"] else st["lang"]
        rules = self.packs.get(lang) or self.packs[DEFAULT_LANGUAGE]
        if lang not in self.packs or label is None:
            # never NULL: a customer writing in Spanish still needs an answer, so the conversation stays actionable
            intent = "unknown"
        elif label == "negative":
            intent = "complaint"
        elif label == "positive" and cues.get("gratitude"):
            intent = "praise"
        elif rules["question"].search(text):
            intent = "question"
        elif rules["request"].search(text):
            intent = "request"
        elif cues.get("complaint"):
            intent = "complaint"
        else:
            intent = "other"
        st["intent"] = intent
        st["is_churn_threat"] = bool(rules["churn"].search(text))
        st["is_legal_safety"] = bool(rules["legal_safety"].search(text))
        letters = len(LETTER.findall(raw))
        shouting = letters > 15 and len(UPPER.findall(raw)) / letters > 0.7
        st["is_public_shaming"] = bool(rules["shaming"].search(text)) or shouting
        if st["is_legal_safety"] or st["is_churn_threat"] or (rules["urgent"].search(text) and label == "negative"):
            urgency = "high"
        elif rules["outage"].search(text):
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
