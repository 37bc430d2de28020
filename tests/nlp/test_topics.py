"""Brand-defined topics: the query language, bad files, and matching in the warehouse (only what changed moves)."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from nlp.topics import Term, TopicError, load_topics, match_topics, topics_for, word_index

TOPICS = """
brands: [AcmeAir]
topics:
  wifi:
    any: [wifi, wi-fi, internet on board]
  bag_fees:
    all: [[bag*, luggage], [fee*, charge*]]
    not: [refund*]
  cramped:
    near: {terms: [[seat, seats], [cramped, tight]], within: 3}
"""
EVERY_BRAND = """
brands: "*"
topics:
  thanks:
    any: [thank*, thx]
"""


@pytest.fixture
def topics_dir(tmp_path):
    (tmp_path / "acme.yml").write_text(TOPICS, encoding="utf-8")
    (tmp_path / "all.yml").write_text(EVERY_BRAND, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("text, expected", [
    ("@AcmeAir the WiFi is down again", ["wifi"]),
    ("@AcmeAir no internet on board today", ["wifi"]),            # a phrase, whole words
    ("@AcmeAir the internet at the board meeting", []),            # the words, not the phrase
    ("@AcmeAir why a $30 fee for my bags?", ["bag_fees"]),         # all: one term of each group; bag* is a prefix
    ("@AcmeAir the bag fee refund never came", []),                # not
    ("@AcmeAir seats were so tight", ["cramped"]),                 # near: 2 words apart
    ("@AcmeAir my seat was fine but the aisle was cramped and tight", []),  # 6 words apart
    ("@AcmeAir thanks! wifi worked", ["thanks", "wifi"]),          # several topics, one from the every-brand file
])
def test_topic_queries(topics_dir, text, expected):
    by_brand, _ = load_topics(topics_dir)
    assert topics_for(text, "AcmeAir", by_brand) == expected


def test_topics_are_per_brand(topics_dir):
    by_brand, _ = load_topics(topics_dir)
    assert topics_for("@OtherCo the wifi, thanks", "OtherCo", by_brand) == ["thanks"]
    # a post with no brand (NULL: None from DuckDB, NaN from a data frame) gets the topics for every brand only
    assert topics_for("the wifi, thanks", None, by_brand) == topics_for("the wifi, thanks", float("nan"), by_brand)
    assert topics_for("the wifi, thanks", None, by_brand) == ["thanks"]


def test_a_term_is_words_never_a_pattern(tmp_path):
    (tmp_path / "x.yml").write_text("brands: [A]\ntopics:\n  t:\n    any: ['a.*b']\n", encoding="utf-8")
    by_brand, _ = load_topics(tmp_path)
    assert topics_for("axxxb", "A", by_brand) == []
    assert topics_for("a b", "A", by_brand) == ["t"]


@pytest.mark.parametrize("body, message", [
    ("brands: [A]\ntopics:\n  t:\n    not: [x]\n", "needs at least one of any, all, near"),
    ("brands: [A]\ntopics:\n  t:\n    any: [x]\n    anywhere: [y]\n", "unknown clause"),
    ("brands: [A]\ntopics:\n  t:\n    near: {terms: [[x]], within: 2}\n", "near needs"),
    ("brands: [A]\ntopics: [x]\n", "needs 'brands"),
    ("brands: [A\n", "not valid YAML"),
])
def test_a_bad_topic_file_is_named_with_the_fix(tmp_path, body, message):
    (tmp_path / "bad.yml").write_text(body, encoding="utf-8")
    with pytest.raises(TopicError, match=message) as error:
        load_topics(tmp_path)
    assert "bad.yml" in str(error.value)


def test_matching_in_the_warehouse_moves_only_what_changed(con, topics_dir):
    from extractors.load import load_posts
    from nlp.enrich import enrich

    def post(i, text):
        return {"post_id": str(i), "author_id": "u", "is_inbound": True, "created_at": "2026-01-01T00:00:00Z",
                "text": text, "brands_mentioned": ["AcmeAir"]}

    load_posts(con, pd.DataFrame([post(1, "@AcmeAir wifi broken"), post(2, "@AcmeAir seats too tight"),
                                  post(3, "@AcmeAir hello")]), "file", "r1")
    enrich(con)
    # enrichment matches the project's topic files as it writes: nothing left for match_topics with those files
    assert {v for (v,) in con.execute("select topics_version from enriched.post_nlp").fetchall()} == {load_topics()[1]}
    assert match_topics(con) == 0
    assert match_topics(con, topics_dir) == 2          # posts 1 and 2 gained a topic; post 3 has none
    assert match_topics(con, topics_dir) == 0          # same files: nothing to match
    stamps = dict(con.execute("select post_id, enriched_at from enriched.post_nlp").fetchall())
    (topics_dir / "acme.yml").write_text(TOPICS.replace("[wifi, wi-fi, internet on board]", "[internet on board]"),
                                         encoding="utf-8")
    assert match_topics(con, topics_dir) == 1          # a changed file re-matches all, only post 1 changed
    rows = dict(con.execute("select post_id, topics from enriched.post_nlp").fetchall())
    assert rows == {"1": [], "2": ["cramped"], "3": []}
    after = dict(con.execute("select post_id, enriched_at from enriched.post_nlp").fetchall())
    assert after["2"] == stamps["2"] and after["3"] == stamps["3"] and after["1"] > stamps["1"]


def test_a_term_is_found_where_sliding_over_every_word_finds_it():
    """Term.starts looks up its first word in the post's word index; it must find exactly the positions the plain
    definition (compare the term at every position) finds, phrases and prefixes included."""
    def slide(term: Term, words: list[str]) -> list[int]:
        n = len(term.words)
        return [i for i in range(len(words) - n + 1) if words[i:i + n - 1] == list(term.words[:-1])
                and (words[i + n - 1] == term.words[-1]
                     or (term.prefix and words[i + n - 1].startswith(term.words[-1])))]

    rng = random.Random(7)
    vocabulary = ["bag", "bags", "baggage", "fee", "fees", "late", "seat", "seats", "wifi", "on", "board"]
    checked = found = 0
    for _ in range(3000):
        words = [rng.choice(vocabulary) for _ in range(rng.randint(0, 12))]
        spec = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 3)))
        term = Term.parse(spec + ("*" if rng.random() < 0.4 else ""), "test")
        expected = slide(term, words)
        assert term.starts(words) == expected == term.starts(words, word_index(words)), (spec, words)
        checked, found = checked + 1, found + bool(expected)
    assert checked == 3000 and 300 < found < 2700  # both outcomes are well represented


def test_ruling_out_by_substring_and_looking_up_terms_change_no_topic():
    """topics_for skips a topic whose needles are not in the text and asks whether a term occurs; matching every
    topic with the full definition (every term's places) must give the same topics, on the shipped topic files."""
    from extractors.sample.generator import generate
    from nlp.topics import TOPICS_DIR, tokens

    by_brand, _ = load_topics(TOPICS_DIR)
    posts = generate(3000, seed=13).posts
    texts = posts["text"].tolist() + [
        "@SkyLarkAir someone’s BAGGAGE fee… and the Wi-Fi", "@ParcelMartHelp wrong colour, someone else’s parcel!!",
        "@VoltMobileCare my INTERNET is slow, speed 2 mbps", "@VoltMobileCare SWITCHING TO another network",
        "@SkyLarkAir rebooking after a missed connection", "@BasketBoxSupport the groceries were out of date"]
    brands = posts["brand"].tolist() + ["SkyLarkAir", "ParcelMartHelp", "VoltMobileCare", "VoltMobileCare",
                                        "SkyLarkAir", "BasketBoxSupport"]

    def full(topic, words):
        def hit(group):
            return any(term.starts(words) for term in group)
        if (topic.any and not hit(topic.any)) or any(not hit(g) for g in topic.all) or (topic.not_ and hit(topic.not_)):
            return False
        if topic.near:
            a = [i for t in topic.near[0] for i in t.starts(words)]
            b = [i for t in topic.near[1] for i in t.starts(words)]
            return any(abs(i - j) <= topic.near[2] for i in a for j in b)
        return True

    tagged = 0
    for text, brand in zip(texts, brands, strict=True):
        candidates = by_brand.get("*", []) + by_brand.get(str(brand).lower(), [])
        expected = sorted({topic.name for topic in candidates if full(topic, tokens(text))})
        assert topics_for(text, brand, by_brand) == expected, text
        tagged += bool(expected)
    assert tagged > 300
    # the hand-written ones, each worked out from the topic files: curly apostrophe, capitals, phrase, near, prefix
    assert [topics_for(text, brand, by_brand) for text, brand in zip(texts[-6:], brands[-6:], strict=True)] == [
        ["baggage"], ["damaged_or_wrong_item", "late_or_missing_delivery"], ["speed"], ["switching_away"],
        ["delays_and_cancellations"], ["food_quality"]]


def test_a_term_with_an_apostrophe_matches_a_curly_one(tmp_path):
    (tmp_path / "acme.yml").write_text('brands: [AcmeAir]\ntopics:\n  lost_bag:\n    any: ["where\'s my bag"]\n',
                                       encoding="utf-8")
    by_brand, _ = load_topics(tmp_path)
    assert topics_for("@AcmeAir WHERE\u2019S my bag??", "AcmeAir", by_brand) == ["lost_bag"]
    assert topics_for("@AcmeAir where is my bag", "AcmeAir", by_brand) == []
