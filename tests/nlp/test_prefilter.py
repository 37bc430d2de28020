"""The Hyperscan prefilter: it may report a pattern that does not match, never miss one that does, so the
annotations are the same with it and without it."""

from __future__ import annotations

import random
import re

import pytest

import nlp.components.prefilter as prefilter
from nlp.components.prefilter import Prefilter, relax
from nlp.pipeline import load_pipeline

pytestmark = pytest.mark.skipif(prefilter.hyperscan is None, reason="Hyperscan has no wheel for this platform")

# hand-written posts where a relaxation could go wrong: non-ASCII letters next to word boundaries, emoji and
# emoticons, curly and straight quotes, newlines inside a `.{0,n}` window, capitals, digits, RT text, a lone
# surrogate (bad data from a file drop), other languages, and a long post
HOSTILE = [
    "@SkyLarkAir my flight was delayed\nagain 😡 #fail", "still\nwaiting for my bag 3 hours later",
    "thanks for nothing 🙄", "your \u201cgreat\u201d service", 'the "premium" lounge?', "café délayed",
    "naïve lateness", "Ünited delay", "canceled", "cancellled", "I've been on hold 45mins!!", "WHY IS THIS SO SLOW??",
    ":( :-( :/ http://t.co/x :'(", "no signal since 9am", "RT @someone: worst airline ever", "\ud800 broken bag",
    "Mi vuelo fue cancelado y nadie me ayuda", "¿Dónde está mi maleta? llevo 3 horas esperando",
    "自分の荷物がない lost luggage", "never arrived, never refunded", "charged twice!! refund me",
    "food poisoning from the chicken", "the app keeps crashing", "A" * 3000 + " delayed " + "b" * 3000, "", " ",
]


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline()[0]


def _rule_patterns(nlp) -> dict[str, dict]:
    sentiment, categories, intent = (nlp.get_pipe(name) for name in
                                     ("socialcx_sentiment", "socialcx_categories", "socialcx_intent"))
    packs = {f"sentiment/{lang}": {name: p for name, (p, _) in cues.items()} for lang, cues in sentiment.packs.items()}
    packs |= {f"taxonomy/{lang}": {(industry, name, kind): p for industry, cats in taxonomies.items()
                                   for name, strong, weak in cats for kind, p in (("strong", strong), ("weak", weak))}
              for lang, taxonomies in categories.by_language.items()}
    packs |= {f"intent/{lang}": rules for lang, rules in intent.packs.items()}
    return packs


def _texts() -> list[str]:
    """The sample world's posts, the hostile ones, and random mixtures of the rules' own words with noise."""
    from extractors.sample.generator import generate

    words = sorted({w for w in re.findall(r"[a-z']{3,}", " ".join(p.pattern for p in _all_patterns()))})
    noise = ["😡", "\n", "é", "?", "!!", "\u201c", '"', " ", "  ", "2", "#", "@x", "ß", "…", "🙄", "\ud800"]
    rng = random.Random(5)
    mixtures = ["".join(rng.choice(words + noise) + rng.choice(["", " ", " ", "\n", ","])
                        for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    return generate(1500, seed=11).posts["text"].tolist() + HOSTILE + mixtures


def _all_patterns():
    return [p for pack in _rule_patterns(load_pipeline()[0]).values() for p in pack.values()]


def test_no_rule_pattern_that_matches_is_left_out(nlp):
    """For every pattern of every pack and every text: a match means the prefilter reported the pattern."""
    texts = [t.lower() for t in _texts()]
    checked = 0
    for pack, patterns in _rule_patterns(nlp).items():
        filtered = Prefilter(patterns)
        assert filtered.active and not filtered.always, pack  # every rule pattern relaxes
        skipped = 0
        for text in texts:
            possible = filtered.candidates(text)
            for key, compiled in patterns.items():
                if compiled.search(text):
                    checked += 1
                    assert key in possible, (pack, key, text)
                elif key not in possible:
                    skipped += 1
        assert skipped > 0, pack  # it does leave out patterns that cannot match: that is what it is for
    assert checked > 5000


def test_annotations_are_the_same_with_and_without_hyperscan(monkeypatch):
    import pandas as pd

    from extractors.sample.generator import generate
    from nlp.enrich import enrich_frame

    world = generate(2500, seed=12)
    industry = dict(zip(world.brands["handle"], world.brands["industry"], strict=True))
    hostile = [text for text in HOSTILE if "\ud800" not in text]  # a frame (and the warehouse) holds valid UTF-8
    frame = pd.concat([world.posts.assign(industry=world.posts["brand"].map(industry))[["text", "industry", "is_inbound"]],
                       pd.DataFrame({"text": hostile * 4, "is_inbound": True,
                                     "industry": ["airline", "telecom", "ecommerce", "generic"] * len(hostile)})],
                      ignore_index=True)
    with_prefilter = load_pipeline()[0]
    assert with_prefilter.get_pipe("socialcx_sentiment").prefilters["en"].active
    a = enrich_frame(with_prefilter, frame, batch_size=500)
    monkeypatch.setattr(prefilter, "hyperscan", None)
    without = load_pipeline()[0]
    assert not without.get_pipe("socialcx_sentiment").prefilters["en"].active
    b = enrich_frame(without, frame, batch_size=500)
    assert a.astype(str).equals(b.astype(str))
    assert (a["sentiment_label"] == "negative").sum() > 500 and a["primary_category"].notna().sum() > 300


def test_relaxations():
    # assertions dropped, categories and negated classes become any character, repeats lose their upper bound,
    # a non-ASCII literal is its UTF-8 bytes, a top-level alternation is one expression per branch
    assert relax(re.compile(r"\bdelay(s)?\b")) == [r"\x64\x65\x6c\x61\x79(?:(?:\x73)){0,}"]
    assert relax(re.compile(r"a\w{2,5}[^x]")) == [r"\x61.{2,}.{1,4}"]
    assert relax(re.compile("é|(?:late|gone)")) == [r"\xc3\xa9", r"\x6c\x61\x74\x65", r"\x67\x6f\x6e\x65"]
    assert relax(re.compile("[a-c😡]")) == [r"(?:[\x61-\x63]|\xf0\x9f\x98\xa1)"]
    with pytest.raises(prefilter.Unrelaxable):
        relax(re.compile("refund", re.IGNORECASE))


def test_a_pattern_that_cannot_be_relaxed_is_checked_on_every_text():
    filtered = Prefilter({"ref": re.compile(r"order (\d+)", re.IGNORECASE), "late": re.compile(r"\blate\b")})
    assert filtered.always == {"ref"}
    assert filtered.candidates("nothing here") == {"ref"}
    assert filtered.candidates("so late") == {"ref", "late"}


def test_without_hyperscan_every_pattern_is_a_candidate(monkeypatch):
    monkeypatch.setattr(prefilter, "hyperscan", None)
    filtered = Prefilter({"late": re.compile("late"), "lost": re.compile("lost")})
    assert not filtered.active
    assert filtered.candidates("") == {"late", "lost"}


def test_compiled_databases_are_cached_and_a_damaged_file_is_compiled_again(tmp_path, monkeypatch):
    monkeypatch.setenv("SOCIALCX_CACHE_DIR", str(tmp_path))
    patterns = {"late": re.compile(r"\blate\b"), "hold": re.compile(r"on hold.{0,10}hours")}
    Prefilter(patterns)
    [cached] = (tmp_path / "prefilter").glob("*.hsdb")
    assert Prefilter(patterns).candidates("on hold for two hours") == {"hold"}  # read back from the file
    cached.write_bytes(b"not a database")
    assert Prefilter(patterns).candidates("so late") == {"late"}
    assert cached.read_bytes() != b"not a database"  # rewritten
    monkeypatch.setenv("SOCIALCX_CACHE_DIR", str(tmp_path / "file"))
    (tmp_path / "file").write_text("a file where the folder should be")
    assert Prefilter(patterns).candidates("so late") == {"late"}  # a cache that cannot be written is skipped


def test_each_cue_familys_count_is_re_findall_of_the_whole_family(nlp):
    """The sentiment component runs only the patterns the scan reports, counted as their alternation in the
    family's order; every family's count must be what findall of the family's whole pattern gives."""
    sentiment = nlp.get_pipe("socialcx_sentiment")
    counted = several = 0
    for text in _texts():
        lower = text.lower()
        for lang, cues in sentiment.packs.items():
            expected = {name: len(pattern.findall(lower)) for name, (pattern, _) in cues.items()}
            assert sentiment._hits(lang, lower) == expected, (lang, text)
            counted += sum(expected.values())
            reported = [name for name, _ in sentiment.prefilters[lang].candidates(lower)]
            several += any(reported.count(name) > 1 for name in set(reported))
    assert counted > 5000 and several > 500  # families matched, and several of a family's patterns reported


def test_an_alternation_is_counted_as_findall_counts_it_without_compiling_it():
    """Leftmost match first, then the first alternative in order at that place, then on from its end: overlaps,
    alternatives that are prefixes of each other, word boundaries and look-behinds at the place a search resumes."""
    from nlp.components.sentiment import count_alternation

    cases = [(["ab", "abc", "b"], "abcab b abc"), (["abc", "ab", "c"], "abcab b abc"), (["b", "ab"], "abab"),
             ([r"\bno\b", r"not?"], "no not nothing no"), ([r"(?<=x)y", "xy"], "xyxyy xy"),
             ([r"\bwait", r"ing\b"], "waiting waitingwaiting ing"), (["a+", "aa"], "aaa aa a"),
             (["late", "still late"], "still late, still\nlate"), (["zz", "q"], "none here")]
    for patterns, text in cases:
        expected = len(re.findall("|".join(f"(?:{p})" for p in patterns), text))
        assert count_alternation([re.compile(p) for p in patterns], text) == expected, (patterns, text)
    assert count_alternation([re.compile("ab"), re.compile("abc")], "abcabc") == 2
    assert count_alternation([re.compile("x*"), re.compile("y")], "yy") is None  # an empty match: findall's own rules


def test_threads_scanning_at_once_get_the_same_candidates():
    """Each thread scans with its own scratch space (Hyperscan's scratch is one scan's at a time)."""
    from concurrent.futures import ThreadPoolExecutor

    filtered = Prefilter({"late": re.compile(r"\blate\b"), "hold": re.compile(r"on hold.{0,10}hours"),
                          "bag": re.compile(r"\bbags?\b")})
    texts = [f"{'so late ' * (i % 3)}{'on hold two hours ' * (i % 2)}{'my bag ' * (i % 5 == 0)}x" * 50
             for i in range(400)]
    expected = [filtered.candidates(text) for text in texts]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            assert list(pool.map(filtered.candidates, texts)) == expected
    assert {frozenset(e) for e in expected} >= {frozenset(), frozenset({"late", "hold", "bag"})}


def test_without_a_home_directory_there_is_no_cache_and_no_error(monkeypatch):
    from pathlib import Path

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("SOCIALCX_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert Prefilter({"late": re.compile(r"\blate\b")}).candidates("so late") == {"late"}
