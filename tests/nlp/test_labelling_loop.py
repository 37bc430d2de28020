"""The labelling loop end to end: sample from the warehouse, label (CSV or Label Studio), train, compare,
promote, re-enrich, roll back."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from nlp import labelling, registry
from nlp.evaluate import EvaluationInputError, read_labelled
from nlp.pipeline import PIPELINE_VERSION
from tests.support import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "nlp"
TEXTS = [
    "@AcmeAir my flight is delayed five hours, mail me at jane.doe@example.com",
    "@AcmeAir thanks, the crew was lovely!",
    "@AcmeAir what time does boarding start?",
    "@AcmeAir great, another delay. thanks for nothing",
    "@AcmeAir hmm ok",
    "@AcmeAir bag lost in Boston",
]


def _load(con, texts=TEXTS):
    from extractors.load import load_posts
    from nlp.enrich import enrich

    rows = [{"post_id": str(i), "author_id": f"u{i}", "is_inbound": True, "created_at": "2026-01-01T00:00:00Z",
             "text": t, "brands_mentioned": ["AcmeAir"]} for i, t in enumerate(texts)]
    rows.append({"post_id": "99", "author_id": "AcmeAir", "is_inbound": False, "created_at": "2026-01-01T01:00:00Z",
                 "text": "@u0 sorry, DM us", "parent_post_id": "0"})
    load_posts(con, pd.DataFrame(rows), "file", "r1")
    enrich(con)


def test_uncertain_sample_is_redacted_customers_posts_least_confident_first(con):
    _load(con)
    frame = labelling.sample(con, 4, "uncertain", "default")
    assert len(frame) == 4 and "99" not in set(frame["post_id"])            # the brand's own post is not sampled
    assert list(frame["confidence"]) == sorted(frame["confidence"])
    everything = labelling.sample(con, 50, "uncertain", "default")
    assert len(everything) == len(TEXTS)
    first = everything.set_index("post_id").loc["0", "text"]
    assert "jane.doe" not in first and "[EMAIL]" in first                  # the labeller gets the redacted text
    assert set(everything["sentiment"]) == {""} and set(everything["model_version"]) == {PIPELINE_VERSION}


def test_stratified_and_disagreement_samples(con):
    _load(con)
    stratified = labelling.sample(con, 3, "stratified", "default")
    assert sorted(stratified["predicted_sentiment"]) == ["negative", "neutral", "positive"]
    disagree = labelling.sample(con, 10, "disagreement", "default")
    # the second opinion (VADER alone, the rules being in use) differs on each row, e.g. sarcasm VADER reads positive
    assert len(disagree) >= 1 and (disagree["second_opinion"] != disagree["predicted_sentiment"]).all()
    assert "3" in set(disagree["post_id"])
    with pytest.raises(EvaluationInputError, match="--strategy"):
        labelling.sample(con, 3, "random", "default")


def test_an_empty_warehouse_says_what_to_run(con):
    with pytest.raises(EvaluationInputError, match="socialcx run"):
        labelling.sample(con, 3, "uncertain", "default")


def test_label_studio_tasks_and_their_export_read_back(con, tmp_path):
    _load(con)
    frame = labelling.sample(con, 6, "uncertain", "default")
    tasks_file, config = labelling.write(frame, tmp_path / "round.json", "label-studio", ["delay", "lost_baggage"])
    tasks = json.loads(tasks_file.read_text(encoding="utf-8"))
    assert len(tasks) == 6 and {"text", "source", "post_id"} <= set(tasks[0]["data"])
    assert tasks[0]["predictions"][0]["result"][0]["from_name"] == "sentiment"
    assert '<Choices name="sentiment" toName="text"' in config.read_text() and 'value="lost_baggage"' in config.read_text()
    # what Label Studio exports after a person labelled four tasks (one skipped, one cancelled)
    for task, label in zip(tasks, ["negative", "positive", "neutral", "negative", None, "neutral"], strict=True):
        if label:
            task["annotations"] = [{"was_cancelled": label == "neutral" and task is tasks[5], "result": [
                {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]}]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks), encoding="utf-8")
    labelled = read_labelled(export, "text", "sentiment")
    assert list(labelled["sentiment"]) == ["negative", "positive", "neutral", "negative"]
    assert list(labelled["post_id"]) == [t["data"]["post_id"] for t in tasks[:4]]
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a list"}', encoding="utf-8")
    with pytest.raises(EvaluationInputError, match="not a Label Studio JSON export"):
        read_labelled(bad, "text", "sentiment")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from nlp.train import train

    model_dir, report = train(FIXTURES / "labelled.csv", "message", "tone", output=tmp_path_factory.mktemp("models"),
                              name="acme")
    return model_dir, report


def test_promote_reenrich_and_roll_back(con, trained, monkeypatch):
    monkeypatch.delenv("SOCIALCX_NLP_MODEL", raising=False)
    from nlp.enrich import enrich

    model_dir, _ = trained
    _load(con)
    assert registry.model_for_enrichment(con) == "default"
    with pytest.raises(registry.RegistryError, match="nothing to roll back"):
        registry.rollback(con)
    promotion = registry.promote(con, str(model_dir))
    assert registry.model_for_enrichment(con) == str(model_dir.resolve())
    stored = con.execute("select model_version, data_sha256, figures from ops.nlp_models").fetchall()
    assert stored[0][0] == promotion.model_version and len(stored[0][1]) == 64
    assert "held_out_macro_f1" in json.loads(stored[0][2])
    assert enrich(con, model=registry.model_for_enrichment(con)).enriched == len(TEXTS) + 1
    versions = dict(con.execute("select pipeline_version, count(*) from enriched.post_nlp group by 1").fetchall())
    assert versions == {PIPELINE_VERSION: len(TEXTS) + 1, promotion.model_version: len(TEXTS) + 1}

    retired, restored = registry.rollback(con)
    assert retired.model_version == promotion.model_version and restored is None
    assert registry.model_for_enrichment(con) == "default"
    # both versions' rows went: the rules annotate every post afresh, so the marts see the change
    assert con.execute("select count(*) from enriched.post_nlp").fetchone()[0] == 0
    assert enrich(con).enriched == len(TEXTS) + 1
    assert con.execute("select count(*) from ops.nlp_models where rolled_back_at is not null").fetchone()[0] == 1


def test_an_explicit_model_setting_wins_and_a_missing_directory_is_named(con, trained, tmp_path):
    import shutil

    model_dir, _ = trained
    assert registry.model_for_enrichment(con, str(model_dir)) == str(model_dir)  # a pinned model, nothing promoted
    registry.promote(con, str(model_dir))
    assert registry.model_for_enrichment(con, "default") == str(model_dir.resolve())  # "default" defers
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    registry.promote(con, str(copy))
    shutil.rmtree(copy)
    with pytest.raises(registry.RegistryError, match="socialcx nlp rollback"):
        registry.model_for_enrichment(con)
    with pytest.raises(registry.RegistryError, match="cannot be promoted"):
        registry.promote(con, str(tmp_path / "nowhere"))


def test_compare_prints_per_class_deltas(trained, capsys):
    from socialcx.cli import main

    model_dir, report = trained
    code = main(["nlp", "compare", "--data", str(FIXTURES / "labelled.csv"), "--text-column", "message",
                 "--label-column", "tone", "--models", "default", str(model_dir)])
    assert code == 0
    out = capsys.readouterr().out
    assert "sentiment macro_f1" in out and "negative F1" in out and "delta" in out
    assert report["rules_macro_f1"] is not None and report["training_rows"] + report["validation_rows"] == 48


def test_a_formula_in_a_post_is_written_as_text_and_read_back_as_posted(con, tmp_path):
    """A post is anyone's text: in the CSV a labeller opens in a spreadsheet, a cell that starts like a formula is
    written behind an apostrophe (shown as text, never run); nlp train reads the post back as it was."""
    hostile = '=HYPERLINK("http://evil.example/x","click me") my bag is lost'
    _load(con, [hostile, "@AcmeAir +1 for the crew", "@AcmeAir hello"])
    frame = labelling.sample(con, 10, "uncertain", "default")
    [out] = labelling.write(frame, tmp_path / "round.csv", "csv", [])
    raw = pd.read_csv(out, dtype=str)
    cells = raw["text"].tolist()
    assert "'" + hostile in cells and not any(c.startswith(("=", "+", "-")) for c in cells)
    raw["sentiment"] = "negative"
    raw.to_csv(out, index=False)
    assert hostile in read_labelled(out, "text", "sentiment")["text"].tolist()

