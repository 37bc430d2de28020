"""What every component shares: the per-post annotation state, the tokenizer that keeps the text, rule loading.

Rules live in data files, one pack per language: ``nlp/rules/<lang>/`` holds ``sentiment.yml``, ``intent.yml``,
``pii.yml`` and the complaint ``taxonomy/`` of each industry. A post is read by its language's pack; the
language-independent parts (what an e-mail, card or phone number looks like) are ``socialcx.core.pii``.
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

NLP_DIR = Path(__file__).resolve().parent.parent
RULES_DIR = NLP_DIR / "rules"
DEFAULT_LANGUAGE = "en"  # the pack a post falls back to where its own language has none (flags, references)
TAXONOMY_DIR = RULES_DIR / DEFAULT_LANGUAGE / "taxonomy"

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


class SpaceTokenizer:
    """Tokens split at spaces, the text kept whole (``doc.text`` is the input, every space included).

    No component reads tokens: each reads the post's text (rules, VADER, the trained heads' n-grams). spaCy's
    rule tokenizer cost a fifth of the pipeline's time for tokens nothing used; this is spaCy's documented
    whitespace tokenizer, recording the text as :class:`TextKeepingTokenizer` does."""

    def __init__(self, vocab: Any) -> None:
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        words = text.split(" ")
        spaces = [True] * len(words)
        for i, word in enumerate(words):
            if not word:  # a run of spaces: a space token, so that the text is rebuilt exactly
                words[i], spaces[i] = " ", False
        if words[-1] == " ":
            words, spaces = words[:-1], spaces[:-1]
        else:
            spaces[-1] = False
        doc = Doc(self.vocab, words=words, spaces=spaces)
        doc.user_data[STATE] = {**EXTENSIONS, "text": text}
        return doc

    def pipe(self, texts: Any, batch_size: int = 1000) -> Any:
        for text in texts:
            yield self(text)

    def to_bytes(self, **kwargs: Any) -> bytes:
        return b""

    def from_bytes(self, data: bytes, **kwargs: Any) -> SpaceTokenizer:
        return self

    def to_disk(self, path: Any, **kwargs: Any) -> None:
        return None

    def from_disk(self, path: Any, **kwargs: Any) -> SpaceTokenizer:
        return self


@registry.tokenizers("socialcx.SpaceTokenizer.v1")
def create_space_tokenizer() -> Any:
    def make(nlp: Language) -> SpaceTokenizer:
        return SpaceTokenizer(nlp.vocab)

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


def rule_packs(filename: str, rules_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """``{language: rules}`` for every language folder of ``rules_dir`` (default ``nlp/rules``) holding ``filename``."""
    directory = rules_dir or RULES_DIR
    return {path.parent.name: load_yaml(str(path)) for path in sorted(directory.glob(f"*/{filename}"))}


def pattern(spec: dict[str, Any], name: str, flags: int = 0) -> re.Pattern[str]:
    """A rule file's named pattern: one string, or a list of strings written one after the other."""
    value = spec[name]
    return re.compile("".join(value) if isinstance(value, list) else value, flags)
