"""The erasure register, as every extract consults it: what was forgotten stays forgotten.

``socialcx forget`` (``socialcx.governance.privacy``) registers each erased person's identifiers and each
erased post here, **hashed** (SHA-256 of the normalised value, in ``ops.erasure_identifiers``), so the
register does not itself keep what it protects. Every extractor loads the register before it writes
(:meth:`Register.load`) and drops or redacts what it holds: a re-delivered file, an API page or a CRM export
that still holds the person loads without them. It sits on the ground floor because extractors, which may
import nothing above it, need it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import duckdb
import pandas as pd

PLACEHOLDER = "@[forgotten]"
NAME_PLACEHOLDER = "[forgotten]"
HASH_PREFIX = b"socialcx-erasure/v1:"
TOKEN = re.compile(r"[\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?|@\w+", re.UNICODE)
WORD = re.compile(r"\w+", re.UNICODE)
# an @handle as any network writes it: word characters, dots and dashes (alice.bsky.social), and an optional
# @instance (bob@other.social on Mastodon)
HANDLE = re.compile(r"@(\w[\w.-]{0,252}(?:@[\w-]+(?:\.[\w-]+)+)?)", re.UNICODE)



def normalise(value: object) -> str:
    return " ".join(str(value).strip().lstrip("@").lower().split())


def identifier_hash(value: object) -> str:
    return hashlib.sha256(HASH_PREFIX + normalise(value).encode("utf-8")).hexdigest()


@dataclass
class Register:
    """The hashed identifiers of everything forgotten, as every extract consults them."""

    person: set[str] = field(default_factory=set)
    name: set[str] = field(default_factory=set)
    first_name: set[str] = field(default_factory=set)
    post: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> Register:
        register = cls()
        for digest, kind in con.execute("select hash, kind from ops.erasure_identifiers").fetchall():
            getattr(register, kind).add(digest)
        return register

    def __bool__(self) -> bool:
        return bool(self.person or self.name or self.post)

    def is_person(self, value: object) -> bool:
        return value is not None and value is not pd.NA and not (isinstance(value, float) and value != value) \
            and identifier_hash(value) in self.person

    def holds(self, text: str) -> bool:
        """Does a free text (a quarantined record, a CSV line) hold a forgotten identifier or full name?"""
        if not self or not text:
            return False
        tokens = TOKEN.findall(text)
        if any(identifier_hash(t) in self.person for t in tokens):
            return True
        words = WORD.findall(text)
        return bool(self.name) and any(identifier_hash(f"{a} {b}") in self.name for a, b in zip(words, words[1:], strict=False))

    def redact(self, text: str) -> str:
        """Forgotten @handles become @[forgotten]; in a post that addressed a forgotten person, their name too."""
        if not self.person or not isinstance(text, str) or "@" not in text:
            return text
        hit = False

        def mention(match: re.Match) -> str:
            nonlocal hit
            token = match.group(1).rstrip(".-")
            # the whole handle (a Bluesky domain handle, a Mastodon user@instance), then its first word (a
            # plain @handle followed by punctuation): what matched is replaced, what follows it is kept
            for candidate in dict.fromkeys((token, WORD.match(token).group(0))):
                if identifier_hash(candidate) in self.person:
                    hit = True
                    return PLACEHOLDER + match.group(0)[1 + len(candidate):]
            return match.group(0)

        text = HANDLE.sub(mention, text)
        if hit and (self.name or self.first_name):
            words = WORD.findall(text)
            for a, b in zip(words, words[1:], strict=False):
                if identifier_hash(f"{a} {b}") in self.name:
                    text = re.sub(rf"\b{re.escape(a)}\s+{re.escape(b)}\b", NAME_PLACEHOLDER, text)
            text = WORD.sub(lambda m: NAME_PLACEHOLDER if identifier_hash(m.group(0)) in self.first_name
                            else m.group(0), text)
        return text

    def filter_posts(self, frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, int]:
        """Drop forgotten people's posts and forgotten posts; redact forgotten mentions in the rest."""
        if not self or frame.empty:
            return frame, 0
        erased = pd.Series(False, index=frame.index)
        for column in ("author_id", "author_handle"):
            if column in frame:
                values = frame[column].astype(object)
                erased |= values.map({v: self.is_person(v) for v in values.dropna().unique()}).fillna(False).astype(bool)
        if self.post and "post_id" in frame:
            erased |= frame["post_id"].map(lambda p: identifier_hash(f"{source}:{p}") in self.post).astype(bool)
        kept = frame.loc[~erased].copy()
        if "text" in kept:
            kept["text"] = kept["text"].map(self.redact)
        return kept, int(erased.sum())

    def filter_customers(self, customers: pd.DataFrame,
                         orders: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
        """Drop forgotten CRM customers (by id, handle, e-mail or full name) and their orders."""
        if not self or (customers.empty and orders.empty):
            return customers, orders, 0, 0
        forgotten = pd.Series(False, index=customers.index)
        for column in ("customer_id", "social_handle", "email"):
            if column in customers:
                forgotten |= customers[column].map(self.is_person).astype(bool)
        if "name" in customers:
            forgotten |= customers["name"].map(lambda n: isinstance(n, str) and self.holds(n)).astype(bool)
        gone = set(customers.loc[forgotten, "customer_id"].astype(str)) if "customer_id" in customers else set()
        dropped = pd.Series(False, index=orders.index)
        if "customer_id" in orders:
            dropped = orders["customer_id"].map(lambda c: self.is_person(c) or str(c) in gone).astype(bool)
        return customers.loc[~forgotten], orders.loc[~dropped], int(forgotten.sum()), int(dropped.sum())
