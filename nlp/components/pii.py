"""PII redaction: e-mails, card numbers, phone numbers and order/booking references become placeholders.

The formats are language-independent (``socialcx.core.pii``, shared with the log scrubber); the reference cues
are each language's (``nlp/rules/<lang>/pii.yml``), the default language's where a post's has none.
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from nlp.components.base import DEFAULT_LANGUAGE, pattern, rule_packs, state
from socialcx.core.pii import CARD, EMAIL, PHONE

DIGITS = re.compile(r"\d")
# What every match of EMAIL holds, under the same flags: a character of the local part right before "@" and one of
# the domain right after. Posts hold "@" mostly in handles (" @brand"); EMAIL's search tries each word of such a
# post, this one only the places around an "@" (5% of the pipeline's time on the sample world, session 23).
EMAIL_AT = re.compile(r"[\w.+-]@[\w-]", re.IGNORECASE)


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

    def __init__(self) -> None:
        self.references = {lang: pattern(spec, "reference", re.IGNORECASE) for lang, spec in rule_packs("pii.yml").items()}

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

        if "." in text and EMAIL_AT.search(text):
            sub(EMAIL, "EMAIL")
        if DIGITS.search(text):  # cards, phones and references all hold digits; most posts have none
            sub(CARD, "CARD", lambda m: 13 <= len(re.sub(r"\D", "", m.group(0))) <= 19
                and _luhn(re.sub(r"\D", "", m.group(0))))
            sub(PHONE, "PHONE")
            reference = self.references.get(st["lang"]) or self.references[DEFAULT_LANGUAGE]
            sub(reference, "REF", lambda m: any(ch.isdigit() for ch in (m.group(1) or m.group(2) or m.group(3) or "")))
        st["text_redacted"] = text
        st["pii_kinds"] = sorted(set(kinds))
        return doc


@Language.factory("socialcx_pii")
def make_pii_redactor(nlp: Language, name: str) -> PIIRedactor:
    return PIIRedactor()
