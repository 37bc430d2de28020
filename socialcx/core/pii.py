"""Personal data as it looks in any language: e-mail addresses, payment card numbers, phone numbers, @handles.

The ground floor holds these patterns because two floors above it need the same ones: the NLP stage redacts
them from posts (``nlp/components/pii.py``, which adds each language's own cues such as booking references
from ``nlp/rules/<lang>/pii.yml``), and the log scrubber (``socialcx.core.logs``) masks them in every log line
and error message. The file extractor reads @handles with ``MENTION``.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.IGNORECASE)
CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
PHONE = re.compile(r"(?<![\w#])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}\b")
# an @handle as posts write it (X allows 15 characters, Mastodon and Bluesky more; 50 covers them all)
MENTION = re.compile(r"@(\w{1,50})")

# E-mail addresses are used to match a survey respondent to a CRM customer, never kept: both sides store this
# digest instead (SHA-256 of the trimmed, lower-cased address under a fixed prefix). A digest of an address is
# pseudonymous, not anonymous (anyone holding the address can compute it), so it stays in raw and is never
# published.
EMAIL_HASH_PREFIX = b"socialcx-email-v1:"


def email_hash(value: object) -> str | None:
    """The digest a stored e-mail address becomes; None for a missing or blank one, or one that is no address."""
    import hashlib

    if not isinstance(value, str) or not EMAIL.fullmatch(value.strip()):
        return None
    return hashlib.sha256(EMAIL_HASH_PREFIX + value.strip().lower().encode("utf-8")).hexdigest()
