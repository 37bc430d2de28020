"""``Compound`` gives VADER's compound score exactly (==, not approximately) wherever VADER's rules could part."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from vaderSentiment import vaderSentiment as vader

from nlp.components.vader_compound import Compound

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"

# each rule of VADER's, written out: boosters and dampeners (in capitals too), "kind of", negations with and without
# n't, "no" before a lexicon word, "never so", "without doubt", "least", idioms, "but", punctuation emphasis,
# emoticons, emojis (with and without spaces around them), all capitals, a text with no words
RULES = [
    "VADER is smart, handsome, and funny.", "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is not smart, handsome, nor funny.", "At least it isn't a horrible book.",
    "The book was only kind of good.", "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!", "Today only kinda sux! But I'll get by, lol", "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁", "Not bad at all", "Sentiment analysis has never been this good!",
    "With VADER, sentiment analysis is the shit!", "On the other hand, VADER is quite bad ass",
    "Without a doubt, excellent idea.", "Roger Dodger is one of the least compelling variations on this theme.",
    "Roger Dodger is at least compelling as a variation on the theme.", "no good no bad", "no or nor good",
    "the service was good but but terrible but great", "good good good but bad bad", "great!!!!!!", "great??",
    "great????", "awful?? really?", "kind of", "kind", "😡", "x😡y 😡 z😡", "😁😁", "   ", "", "!!!", "OK",
    "I LOVE IT", "i love it", "I LOVE it", "very very very good", "not very good", "never so good", "never this bad",
    "without doubt the best", "the least bad", "very least bad", "at least bad", "least", "no", "no no",
    "cut the shit", "the bomb", "yeah right", "kiss of death", "hand to mouth", "sort of ok", "hardly good",
    "can't stand it", "won't recommend", "don't like", "isnt good", "aint great", "uber cool", "friggin AWESOME",
]


def _mixtures(analyzer, n: int) -> list[str]:
    """Random posts built from VADER's own words (lexicon, boosters, negations, idiom parts), in mixed case, with
    punctuation and emojis around them: every rule meets every other."""
    rng = random.Random(23)
    lexicon = sorted(analyzer.lexicon)
    specials = [w for phrase in list(vader.SPECIAL_CASES) + list(vader.BOOSTER_DICT) for w in phrase.split()]
    words = rng.sample(lexicon, 400) + list(vader.NEGATE) + specials + ["but", "kind", "of", "least", "at", "very",
                                                                           "no", "or", "nor", "never", "so", "this",
                                                                           "without", "doubt", "the", "service"]
    emojis = sorted(analyzer.emojis)[:50]
    decorations = ["", "", "", "!", "?", ",", ".", "!!", "??", "...", ":)", "'"]
    texts = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(0, 14)):
            word = rng.choice(words)
            word = rng.choice([word, word, word.upper(), word.capitalize()])
            if rng.random() < 0.08:
                word = rng.choice(emojis) + rng.choice(["", " "]) + word
            parts.append(rng.choice(decorations) + word + rng.choice(decorations))
        texts.append(rng.choice([" ", "  ", " \n"]).join(parts))
    return texts


def _development_texts() -> list[str]:
    """The development slice of real customer tweets and the first rows of twcs, where the checkout has ../shared
    beside it (CI does)."""
    texts = []
    for name in ("airline_dev.csv", "twcs_sample.csv"):
        if (SHARED / name).is_file():
            with (SHARED / name).open(encoding="utf-8", newline="") as handle:
                texts += [row["text"] for row in csv.DictReader(handle) if row.get("text")]
    return texts


@pytest.fixture(scope="module")
def analyzer():
    return vader.SentimentIntensityAnalyzer()


def test_compound_equals_vader_on_every_rule_and_on_real_posts(analyzer):
    from extractors.sample.generator import generate

    compound = Compound(analyzer)
    texts = RULES + _mixtures(analyzer, 20_000) + generate(3000, seed=17).posts["text"].tolist() + _development_texts()
    differ = [(text, compound(text), analyzer.polarity_scores(text)["compound"]) for text in texts
              if compound(text) != analyzer.polarity_scores(text)["compound"]]
    assert differ == []
    # the cases reach the rules: negative, positive and neutral scores, and "but" posts
    scores = [compound(text) for text in RULES]
    assert min(scores) < -0.5 and max(scores) > 0.5 and 0.0 in scores


def test_an_emoji_lexicon_with_an_ascii_key_is_refused(analyzer):
    """The ASCII shortcut holds only while every emoji key is non-ASCII; a lexicon that breaks it is refused."""
    class Changed:
        lexicon = analyzer.lexicon
        emojis = {**analyzer.emojis, ":-)": "smiley"}

    with pytest.raises(ValueError, match="ASCII"):
        Compound(Changed())
