"""Trained socialcx heads against the classic baseline, TF-IDF + logistic regression, trained on the same rows.

    .venv/bin/python benchmarks/nlp_train.py --data labelled.csv --text-column text --label-column sentiment \
        [--category-column reason --category-map nlp/category_maps/twitter_airline_sentiment.yml] \
        [--train-rows 5000 | --split half] [--seed 13]

The file is split in two: the first ``--train-rows`` rows of a seeded shuffle train both models and the rest
evaluates them, or, with ``--split half``, the half the rules were tuned on (``nlp evaluate --split tune``) trains
and the other half evaluates. Both models choose their regularisation C from the same grid on the same
validation rows (1/8 of the training part). Prints sentiment macro-F1 for the rules alone, the baseline and
socialcx's trained model, and the trained categories against the rules' on the same rows; ``--json`` ends with
one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def baseline(train, test, text: str, label: str, seed: int) -> float:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from nlp.evaluate import SENTIMENTS, classification_report
    from nlp.train import C_GRID, stratified_split

    fit_part, validation = stratified_split(train, label, 0.125, seed + 1)

    def fit(frame, c):
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        model = LogisticRegression(C=c, max_iter=3000).fit(vectorizer.fit_transform(frame[text]), frame[label])
        return lambda texts: list(model.predict(vectorizer.transform(texts)))

    scores = {c: classification_report(validation[label].tolist(), fit(fit_part, c)(validation[text]), SENTIMENTS)
              ["macro_f1"] for c in C_GRID}
    best = max(scores, key=lambda c: (scores[c], -c))
    return classification_report(test[label].tolist(), fit(train, best)(test[text]), SENTIMENTS)["macro_f1"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--text-column", required=True)
    parser.add_argument("--label-column", required=True)
    parser.add_argument("--category-column")
    parser.add_argument("--category-map")
    parser.add_argument("--train-rows", type=int)
    parser.add_argument("--split", choices=["half"])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from nlp.evaluate import CategoryMap, evaluate_frame, read_labelled, select_split
    from nlp.pipeline import load_pipeline
    from nlp.train import train

    text, label = args.text_column, args.label_column
    frame = read_labelled(Path(args.data), text, label, args.category_column)
    if args.split == "half":
        train_part, test = select_split(frame, text, "tune"), select_split(frame, text, "half")
    else:
        n = args.train_rows or len(frame) // 2
        shuffled = frame.sample(frac=1.0, random_state=args.seed).reset_index(drop=True)
        train_part, test = shuffled.iloc[:n], shuffled.iloc[n:]
    mapping = CategoryMap.from_file(Path(args.category_map)) if args.category_map else None

    rules, _ = load_pipeline("default")
    rules_report = evaluate_frame(rules, test, text, label, args.category_column, mapping)
    started = time.perf_counter()
    base = baseline(train_part, test, text, label, args.seed)
    baseline_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent.parent / "nlp") as scratch:
        data = Path(scratch) / "train.csv"
        train_part.to_csv(data, index=False)
        started = time.perf_counter()
        model_dir, _ = train(data, text, label, args.category_column,
                             Path(args.category_map) if args.category_map else None, output=Path(scratch),
                             name="bench", seed=args.seed, holdout=0.0)
        train_s = time.perf_counter() - started
        trained, _ = load_pipeline(str(model_dir))
        report = evaluate_frame(trained, test, text, label, args.category_column, mapping)
    figures = {"train_rows": len(train_part), "test_rows": len(test), "rules_macro_f1": rules_report["macro_f1"],
               "tfidf_lr_macro_f1": base, "trained_macro_f1": report["macro_f1"],
               "trained_macro_recall": report["macro_recall"],
               "gain_over_tfidf_lr": round(report["macro_f1"] - base, 4),
               "rules_category_macro_f1": rules_report.get("category_macro_f1"),
               "trained_category_macro_f1": report.get("category_macro_f1"),
               "train_s": round(train_s, 1), "tfidf_lr_s": round(baseline_s, 1)}
    print(f"train {figures['train_rows']} rows, evaluate {figures['test_rows']} rows")
    print(f"sentiment macro-F1: rules {figures['rules_macro_f1']:.4f}   TF-IDF+LR {base:.4f}   "
          f"socialcx trained {report['macro_f1']:.4f}  ({figures['gain_over_tfidf_lr']:+.4f} over TF-IDF+LR)")
    if mapping:
        print(f"category macro-F1: rules {figures['rules_category_macro_f1']:.4f}   "
              f"socialcx trained {figures['trained_category_macro_f1']:.4f}")
    print(f"training time: socialcx {train_s:.1f} s, TF-IDF+LR {baseline_s:.1f} s (C chosen on the same grid)")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
