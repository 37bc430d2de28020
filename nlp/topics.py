"""Brand-defined topics: named boolean keyword queries in ``nlp/topics/<brand>.yml``, matched on every post.

A file names the brands it is for and its topics; each topic is a query over terms. A term is a word or a phrase
("internet on board"), matched on whole words case-insensitively; a trailing ``*`` matches any ending
("deliver*": deliver, delivery, delivered). Terms are words, never regular expressions.

.. code-block:: yaml

    brands: [SkyLarkAir]          # or "*" for every brand
    topics:
      wifi_on_board:
        any: [wifi, wi-fi, internet on board]        # at least one of these
      baggage_fees:
        all: [[bag*, luggage, suitcase], [fee*, charge*]]   # each group: at least one of its terms
        not: [refund*]                               # none of these
      cramped_seats:
        near: {terms: [[seat, seats], [cramped, tight, legroom]], within: 4}   # two groups, at most 4 words apart

Clauses combine with AND; a topic needs at least one of ``any``, ``all`` or ``near``. Topics are stored in
``enriched.post_nlp.topics`` (a post can have several) and reach ``fct_posts.topics`` and ``mart_topics``. The
files' content is hashed into ``topics_version``: when a file changes, every post is matched again, and only the
posts whose topics changed are rebuilt downstream.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from nlp.components.base import NLP_DIR

TOPICS_DIR = NLP_DIR / "topics"
TOKEN = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*\*?|#\w+")


class TopicError(ValueError):
    """A topic file cannot be used; the message names the file, the topic and the fix."""


def tokens(text: str) -> list[str]:
    return [t.replace("’", "'") for t in TOKEN.findall(text.lower())]


def word_index(words: list[str]) -> dict[str, list[int]]:
    """Where each word of a post is (ascending): built once per post, so a term looks up its first word instead of
    sliding over every position (every term over every word cost 37 s per 100k posts)."""
    index: dict[str, list[int]] = {}
    for position, word in enumerate(words):
        index.setdefault(word, []).append(position)
    return index


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    prefix: bool  # the last word is a prefix ("deliver*")

    @classmethod
    def parse(cls, value: Any, where: str) -> Term:
        if not isinstance(value, str) or not value.strip():
            raise TopicError(f"{where}: a term must be a word or a phrase, not {value!r}")
        words = tuple(tokens(value.strip()))
        if not words:
            raise TopicError(f"{where}: the term {value!r} has no word in it")
        prefix = words[-1].endswith("*")
        return cls(tuple(w.rstrip("*") for w in words), prefix)

    def occurs(self, words: list[str], index: dict[str, list[int]]) -> bool:
        """Whether the term is in the post: :meth:`starts` without listing every place (a word is looked up, a
        prefix compared with the post's distinct words)."""
        if len(self.words) > 1:
            return bool(self.starts(words, index))
        word = self.words[0]
        if not self.prefix:
            return word in index
        return any(w.startswith(word) for w in index)

    def starts(self, words: list[str], index: dict[str, list[int]] | None = None) -> list[int]:
        """Where the term starts in the post's words (ascending); ``index``: the post's ``word_index``."""
        index = word_index(words) if index is None else index
        n, last_word = len(self.words), self.words[-1]
        if n == 1:
            if not self.prefix:
                return list(index.get(last_word, ()))
            return sorted(i for word, at in index.items() if word.startswith(last_word) for i in at)
        found = []
        middle = list(self.words[1:-1])
        for i in index.get(self.words[0], ()):
            if i + n > len(words):
                break
            if words[i + 1:i + n - 1] != middle:
                continue
            last = words[i + n - 1]
            if last == last_word or (self.prefix and last.startswith(last_word)):
                found.append(i)
        return found


def _group(value: Any, where: str) -> tuple[Term, ...]:
    values = value if isinstance(value, list) else [value]
    return tuple(Term.parse(v, where) for v in values)


@dataclass(frozen=True)
class Topic:
    name: str
    any: tuple[Term, ...]
    all: tuple[tuple[Term, ...], ...]
    not_: tuple[Term, ...]
    near: tuple[tuple[Term, ...], tuple[Term, ...], int] | None

    @cached_property
    def needles(self) -> tuple[tuple[str, ...], ...]:
        """Strings the post's lower-cased text must hold for the topic to match: for each clause that needs a term
        (``any``, each group of ``all``, both groups of ``near``), the first word of each of its terms. A term's
        words are the post's words, and those are pieces of its lower-cased text (’ read as ')."""
        groups = ([self.any] if self.any else []) + list(self.all) + (list(self.near[:2]) if self.near else [])
        return tuple(tuple(term.words[0] for term in group) for group in groups)

    def could_match(self, lowered: str) -> bool:
        """False when the topic cannot match a post whose lower-cased text (’ as ') is ``lowered``."""
        return all(any(needle in lowered for needle in group) for group in self.needles)

    def matches(self, words: list[str], index: dict[str, list[int]] | None = None) -> bool:
        index = word_index(words) if index is None else index

        def hit(group: tuple[Term, ...]) -> bool:
            return any(term.occurs(words, index) for term in group)

        if self.any and not hit(self.any):
            return False
        if any(not hit(group) for group in self.all):
            return False
        if self.not_ and hit(self.not_):
            return False
        if self.near:
            first, second, within = self.near
            a = [i for t in first for i in t.starts(words, index)]
            b = [i for t in second for i in t.starts(words, index)]
            if not any(abs(i - j) <= within for i in a for j in b):
                return False
        return True


def _topic(name: str, spec: Any, where: str) -> Topic:
    if not isinstance(spec, dict) or not set(spec) & {"any", "all", "near"}:
        raise TopicError(f"{where}: topic {name!r} needs at least one of any, all, near")
    unknown = set(spec) - {"any", "all", "not", "near", "description"}
    if unknown:
        raise TopicError(f"{where}: topic {name!r} has unknown clause(s) {', '.join(sorted(unknown))} "
                         "(any, all, not, near)")
    near = None
    if "near" in spec:
        clause = spec["near"]
        groups = clause.get("terms") if isinstance(clause, dict) else None
        within = clause.get("within", 5) if isinstance(clause, dict) else None
        if not (isinstance(groups, list) and len(groups) == 2 and isinstance(within, int) and within >= 0):
            raise TopicError(f"{where}: topic {name!r}: near needs {{terms: [[...], [...]], within: N}}")
        near = (_group(groups[0], where), _group(groups[1], where), within)
    all_groups = spec.get("all") or []
    if not isinstance(all_groups, list):
        raise TopicError(f"{where}: topic {name!r}: all is a list of terms or of groups of terms")
    return Topic(name, _group(spec["any"], where) if spec.get("any") else (),
                 tuple(_group(g, where) for g in all_groups), _group(spec["not"], where) if spec.get("not") else (),
                 near)


def load_topics(directory: Path = TOPICS_DIR) -> tuple[dict[str, list[Topic]], str]:
    """``{brand handle (or "*"): topics}`` from every ``*.yml`` of ``directory``, and their version (a hash)."""
    by_brand: dict[str, list[Topic]] = {}
    digest = hashlib.sha256()
    for path in sorted(Path(directory).glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        digest.update(path.name.encode() + b"\0" + text.encode() + b"\0")
        try:
            spec = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise TopicError(f"{path}: not valid YAML ({exc})") from exc
        brands = spec.get("brands", [path.stem])
        brands = [brands] if isinstance(brands, str) else brands
        topics = spec.get("topics")
        if not isinstance(topics, dict) or not isinstance(brands, list):
            raise TopicError(f"{path}: needs 'brands: [handle, ...]' (or \"*\") and 'topics:' (name: query)")
        parsed = [_topic(str(name), query, str(path)) for name, query in topics.items()]
        for brand in brands:
            by_brand.setdefault(str(brand).lower(), []).extend(parsed)
    return by_brand, digest.hexdigest()[:16] if by_brand else "none"


def topics_for(text: str, brand: str | None, by_brand: dict[str, list[Topic]]) -> list[str]:
    # a post with no brand: None from DuckDB, NaN from a data frame
    candidates = by_brand.get("*", []) + by_brand.get(brand.lower() if isinstance(brand, str) else "", [])
    # most posts hold no word of any of their brand's topics: a substring test rules them out before tokenising
    lowered = text.lower().replace("’", "'")
    candidates = [topic for topic in candidates if topic.could_match(lowered)]
    if not candidates:
        return []
    words = tokens(text)
    index = word_index(words)
    return sorted({topic.name for topic in candidates if topic.matches(words, index)})


PENDING = """
select e.source, e.post_id, e.pipeline_version, p.brand, p.text, e.topics
from enriched.post_nlp as e
join raw.posts_with_brand as p on p.source = e.source and p.post_id = e.post_id
where e.topics_version is distinct from ?
"""


def match_topics(con: duckdb.DuckDBPyConnection, directory: Path = TOPICS_DIR) -> int:
    """Match the topics on every enriched post not yet matched by this version of the topic files; returns how many
    posts' topics changed (their ``enriched_at`` moves, so the marts rebuild them)."""
    by_brand, version = load_topics(directory)
    pending = con.execute(PENDING, [version]).fetchall()  # tuples: pandas turns a NULL list into NA
    if not pending:
        return 0
    found = [topics_for(text, brand, by_brand) for _, _, _, brand, text, _ in pending]
    update = pd.DataFrame({"source": [r[0] for r in pending], "post_id": [r[1] for r in pending],
                           "pipeline_version": [r[2] for r in pending], "topics": pd.Series(found, dtype=object),
                           "changed": [f != sorted(r[5] or []) for f, r in zip(found, pending, strict=True)]})
    con.register("_topics_update", update)
    try:
        con.execute("""
            update enriched.post_nlp as e
            set topics = u.topics::varchar[], topics_version = ?,
                enriched_at = case when u.changed then ? else e.enriched_at end
            from _topics_update as u
            where e.source = u.source and e.post_id = u.post_id and e.pipeline_version = u.pipeline_version""",
                    [version, datetime.now(UTC)])
    finally:
        con.unregister("_topics_update")
    return int(update["changed"].sum())
