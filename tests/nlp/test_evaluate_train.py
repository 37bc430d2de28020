from __future__ import annotations

import json

import pytest

from nlp.evaluate import EvaluationInputError, classification_report, evaluate
from nlp.pipeline import PIPELINE_VERSION
from socialcx.cli import main
from tests.support import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "nlp"


def test_classification_report_matches_hand_computed_figures():
    gold = ["neg", "neg", "neg", "neu", "pos", "pos"]
    pred = ["neg", "neg", "neu", "neu", "neu", "pos"]
    r = classification_report(gold, pred, ["neg", "neu", "pos"])
    # neg: tp 2, fp 0, fn 1 -> p 1, r 2/3, f1 0.8; neu: tp 1, fp 2, fn 0 -> p 1/3, r 1, f1 0.5; pos: p 1, r 1/2, f1 2/3
    assert r["per_class"]["neg"] == {"precision": 1.0, "recall": 0.6667, "f1": 0.8, "support": 3}
    assert r["per_class"]["neu"]["f1"] == 0.5 and r["per_class"]["pos"]["f1"] == 0.6667
    assert r["macro_f1"] == round((0.8 + 0.5 + 0.6667) / 3, 4)
    assert r["accuracy"] == round(4 / 6, 4)
    assert r["confusion"]["neg"] == {"neg": 2, "neu": 1, "pos": 0}


def test_evaluate_prints_figures_and_a_json_last_line(capsys):
    code = main(["nlp", "evaluate", "--data", str(FIXTURES / "labelled.csv"), "--text-column", "message",
                 "--label-column", "tone", "--category-column", "tag", "--category-map", str(FIXTURES / "tags.yml"),
                 "--json"])
    assert code == 0
    out = capsys.readouterr().out.strip().splitlines()
    report = json.loads(out[-1])
    assert {"accuracy", "macro_f1", "per_class", "n", "category_macro_f1"} <= set(report)
    assert report["n"] == 60 and report["category_n"] == 20
    assert report["macro_f1"] >= 0.8  # hand-written, unambiguous posts
    assert any(line.startswith("sentiment accuracy") for line in out)
    assert any("confusion (rows: gold, columns: predicted)" in line for line in out)


def test_evaluate_names_a_missing_column_and_an_unmapped_category(tmp_path):
    with pytest.raises(EvaluationInputError, match="has no column body"):
        evaluate(FIXTURES / "labelled.csv", "body", "tone")
    partial = tmp_path / "map.yml"
    partial.write_text("industry: airline\nmap:\n  delay: delay\n")
    with pytest.raises(EvaluationInputError, match="category map has no entry for bag, cancel, service"):
        evaluate(FIXTURES / "labelled.csv", "message", "tone", "tag", partial)


def test_train_saves_a_versioned_model_that_enrichment_can_switch_to(tmp_path, monkeypatch, capsys, con):
    code = main(["nlp", "train", "--data", str(FIXTURES / "labelled.csv"), "--text-column", "message",
                 "--label-column", "tone", "--category-column", "tag", "--category-map", str(FIXTURES / "tags.yml"),
                 "--output", str(tmp_path), "--name", "acme"])
    assert code == 0
    out = capsys.readouterr().out
    [model_dir] = list(tmp_path.glob("acme-*"))
    assert f"socialcx nlp promote {model_dir}" in out
    meta = json.loads((model_dir / "meta.json").read_text())
    assert meta["version"].startswith("1.0.") and "held_out_macro_f1" in meta["performance"]
    assert meta["training_data"]["rows"] == 60 and len(meta["training_data"]["sha256"]) == 64
    # the trained heads are arrays and JSON, never a pickle: loading a model directory cannot run code
    stored = {p.name for p in (model_dir / "socialcx_linear").iterdir()}
    assert stored == {"linear.npz", "linear.json"}
    import numpy as np

    with np.load(model_dir / "socialcx_linear" / "linear.npz", allow_pickle=False) as arrays:
        assert {"sentiment_coef", "category_coef", "columns"} <= set(arrays.files)

    from nlp.enrich import enrich
    from nlp.pipeline import load_pipeline, pipeline_version

    nlp, version = load_pipeline(str(model_dir))
    assert "socialcx_linear" in nlp.pipe_names and version == f"socialcx_acme-{meta['version']}"
    assert pipeline_version(str(model_dir)) == version  # what enrich keys its rows by, read without loading
    doc = nlp("@AcmeAir my flight is delayed five hours and nobody tells us anything")
    assert doc._.sentiment_label == "negative"

    import pandas as pd

    from extractors.load import load_posts

    load_posts(con, pd.DataFrame([{"post_id": "1", "author_id": "u", "is_inbound": True,
                                   "created_at": "2026-01-01T00:00:00Z", "text": "@AcmeAir bag lost"}]), "file", "r")
    assert enrich(con).enriched == 1
    assert enrich(con, model=str(model_dir)).enriched == 1  # a new pipeline version re-enriches
    assert enrich(con, model=str(model_dir)).enriched == 0
    versions = {v for (v,) in con.execute("select pipeline_version from enriched.post_nlp").fetchall()}
    assert versions == {PIPELINE_VERSION, version}


def test_train_refuses_labels_that_are_not_sentiments(tmp_path):
    from nlp.train import train

    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhello,happy\nbye,sad\n")
    with pytest.raises(EvaluationInputError, match="labels happy, sad"):
        train(bad, "text", "label", output=tmp_path)


def test_split_halves_are_disjoint_stable_and_follow_the_text(tmp_path):
    from nlp.evaluate import read_labelled, select_split

    frame = read_labelled(FIXTURES / "labelled.csv", "message", "tone")
    tune, half = select_split(frame, "message", "tune"), select_split(frame, "message", "half")
    assert len(tune) + len(half) == len(frame) and not set(tune["message"]) & set(half["message"])
    shuffled = frame.sample(frac=1.0, random_state=3)
    assert set(select_split(shuffled, "message", "half")["message"]) == set(half["message"])  # order does not matter
    report = evaluate(FIXTURES / "labelled.csv", "message", "tone", split="half")
    assert report["n"] == len(half) and "(half split)" in report["data"]
    with pytest.raises(EvaluationInputError, match="--split"):
        select_split(frame, "message", "third")


def test_macro_recall_next_to_macro_f1():
    r = classification_report(["neg", "neg", "pos", "pos"], ["neg", "pos", "pos", "pos"], ["neg", "pos"])
    # recall: neg 1/2, pos 2/2 -> macro 0.75
    assert r["macro_recall"] == 0.75


def test_classes_nobody_labelled_do_not_count_in_macro_figures():
    import pandas as pd

    from nlp.evaluate import evaluate_frame
    from nlp.pipeline import load_pipeline

    frame = pd.DataFrame({"text": ["@AcmeAir my bag is lost", "@AcmeAir what time is boarding?"],
                          "label": ["negative", "neutral"]})
    report = evaluate_frame(load_pipeline()[0], frame, "text", "label", None, None)
    assert set(report["per_class"]) == {"negative", "neutral"} and report["macro_f1"] == 1.0
