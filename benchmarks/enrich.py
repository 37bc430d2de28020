"""Enrichment throughput: the full default spaCy pipeline against VADER alone, on the same generated posts.

    .venv/bin/python benchmarks/enrich.py --posts 20000

Prints posts/s for each and their ratio. Both run in this process, one after the other, on one core.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=2000)
    args = parser.parse_args()

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from extractors.sample.generator import generate
    from nlp.enrich import enrich_frame
    from nlp.pipeline import load_pipeline

    posts = generate(args.posts, seed=args.seed).posts
    frame = posts.assign(industry="airline")[["text", "industry", "is_inbound"]]
    texts = frame["text"].tolist()

    analyzer = SentimentIntensityAnalyzer()
    started = time.perf_counter()
    for text in texts:
        analyzer.polarity_scores(text)
    vader_seconds = time.perf_counter() - started

    nlp, version = load_pipeline()
    started = time.perf_counter()
    enrich_frame(nlp, frame, batch_size=args.batch_size)
    pipeline_seconds = time.perf_counter() - started

    n = len(texts)
    print(f"posts: {n:,}  pipeline version: {version}")
    print(f"{'what':<32}{'seconds':>10}{'posts/s':>12}")
    print(f"{'VADER alone (baseline)':<32}{vader_seconds:>10.2f}{n / vader_seconds:>12,.0f}")
    print(f"{'socialcx default pipeline':<32}{pipeline_seconds:>10.2f}{n / pipeline_seconds:>12,.0f}")
    print(f"pipeline / VADER time ratio: {pipeline_seconds / vader_seconds:.2f}x")


if __name__ == "__main__":
    main()
