"""The NLP figures a release note quotes: the development slice in its tuned and unseen halves, and agreement
with the hand labels of the twcs sample (nlp/eval/twcs_sample_labels.csv: ids and labels only, the texts stay
in the data set).

    python scripts/nlp_figures.py [--dev ../shared/data/airline_dev.csv] [--twcs ../shared/data/twcs_sample.csv]
        [--model DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp.evaluate import CategoryMap, classification_report, evaluate_frame, read_labelled, select_split  # noqa: E402
from nlp.pipeline import load_pipeline  # noqa: E402

LABELS = ROOT / "nlp" / "eval" / "twcs_sample_labels.csv"


def twcs_agreement(nlp, twcs: Path) -> dict[str, float]:
    texts = pd.read_csv(twcs, dtype={"tweet_id": str})[["tweet_id", "text"]]
    labels = pd.read_csv(LABELS, dtype={"tweet_id": str}).merge(texts, on="tweet_id")
    docs = list(nlp.pipe(labels["text"].astype(str)))
    predicted = {
        "sentiment": [d._.sentiment_label or "neutral" for d in docs],
        "intent": [d._.intent for d in docs],
        "category": [((d._.category_hits or {}).get("generic") or ["none"])[0] for d in docs],
    }
    out = {"n": len(labels)}
    for name, values in predicted.items():
        report = classification_report(labels[name].tolist(), values)
        out[f"{name}_agreement"], out[f"{name}_macro_f1"] = report["accuracy"], report["macro_f1"]
    misses = labels.assign(predicted=predicted["sentiment"]).query("predicted != sentiment")
    out["sentiment_misses"] = [f"{r.sentiment}->{r.predicted}: {r.text[:90]}" for r in misses.itertuples()]
    return out


def spanish(nlp, posts: int, seed: int) -> dict[str, float]:
    """The Spanish pack on the Spanish posts the sample world writes (the only measurement there is of it)."""
    from extractors.sample.generator import generate

    labels = generate(posts, seed).labels
    docs = list(nlp.pipe(labels["text"].tolist()))
    out = {"n": len(labels), "detected_spanish": sum(d._.lang == "es" for d in docs) / max(len(docs), 1)}
    predicted = {"sentiment": [d._.sentiment_label or "neutral" for d in docs], "intent": [d._.intent for d in docs],
                 "category": [((d._.category_hits or {}).get(i) or ["none"])[0] for d, i in zip(docs, labels["industry"], strict=True)]}
    gold = {"sentiment": labels["sentiment"], "intent": labels["intent"], "category": labels["category"].fillna("none")}
    for name, values in predicted.items():
        report = classification_report(gold[name].tolist(), values)
        out[f"{name}_accuracy"], out[f"{name}_macro_f1"] = report["accuracy"], report["macro_f1"]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", default=str(ROOT.parent / "shared" / "data" / "airline_dev.csv"))
    parser.add_argument("--twcs", default=str(ROOT.parent / "shared" / "data" / "twcs_sample.csv"))
    parser.add_argument("--model", default="default")
    parser.add_argument("--misses", action="store_true", help="list the twcs sentiment disagreements")
    parser.add_argument("--spanish-posts", type=int, default=100_000,
                        help="size of the sample world whose Spanish posts measure the Spanish pack (default 100000)")
    args = parser.parse_args()
    nlp, version = load_pipeline(args.model)
    print(f"pipeline {version}")
    mapping = CategoryMap.from_file(ROOT / "nlp" / "category_maps" / "twitter_airline_sentiment.yml")
    frame = read_labelled(Path(args.dev), "text", "airline_sentiment", "negativereason")
    for split in ("tune", "half"):
        part = select_split(frame, "text", split)
        r = evaluate_frame(nlp, part, "text", "airline_sentiment", "negativereason", mapping)
        print(f"development slice, {split:<4} half (n {r['n']:>4}): sentiment macro-F1 {r['macro_f1']:.3f} "
              f"(macro-recall {r['macro_recall']:.3f}, accuracy {r['accuracy']:.3f}); categories (n {r['category_n']}) "
              f"macro-F1 {r['category_macro_f1']:.3f} (accuracy {r['category_accuracy']:.3f})")
    t = twcs_agreement(nlp, Path(args.twcs))
    print(f"twcs sample, hand-labelled (n {t['n']}): sentiment agreement {t['sentiment_agreement']:.3f} "
          f"(macro-F1 {t['sentiment_macro_f1']:.3f}); intent agreement {t['intent_agreement']:.3f}; "
          f"category agreement {t['category_agreement']:.3f} (macro-F1 {t['category_macro_f1']:.3f})")
    s = spanish(nlp, args.spanish_posts, 42)
    print(f"Spanish posts of a {args.spanish_posts}-post sample world (n {s['n']}; the only measurement of the Spanish "
          f"pack): detected as Spanish {s['detected_spanish']:.3f}; sentiment accuracy {s['sentiment_accuracy']:.3f} "
          f"(macro-F1 {s['sentiment_macro_f1']:.3f}); intent {s['intent_accuracy']:.3f}; category "
          f"{s['category_accuracy']:.3f} (macro-F1 {s['category_macro_f1']:.3f})")
    if args.misses:
        print("\n".join("  " + m for m in t["sentiment_misses"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
