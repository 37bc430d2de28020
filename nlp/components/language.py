"""Language: which posts are not English, from spaCy's own stop-word lists (no model download)."""

from __future__ import annotations

from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from nlp.components.base import NOISE, WORD, state


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
