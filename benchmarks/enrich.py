"""Enrichment throughput: the full default spaCy pipeline against VADER alone, on the same generated posts.

    .venv/bin/python benchmarks/enrich.py --posts 20000

Prints posts/s for each and their ratio. Both run in this process, one after the other, on one core.
"""

from __future__ import annotations

import argparse
import os
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
    from nlp.enrich import enrich_frame, worker_pool
    from nlp.pipeline import load_pipeline

    world = generate(args.posts, seed=args.seed)
    industry = dict(zip(world.brands["handle"], world.brands["industry"], strict=True))
    frame = world.posts.assign(industry=world.posts["brand"].map(industry))[["text", "industry", "is_inbound"]]
    texts = frame["text"].tolist()

    analyzer = SentimentIntensityAnalyzer()
    started = time.perf_counter()
    for text in texts:
        analyzer.polarity_scores(text)
    vader_seconds = time.perf_counter() - started

    nlp, version = load_pipeline()
    timings = []
    startup = 0.0
    for processes in (1, 2):
        started = time.perf_counter()
        with worker_pool(processes, "default") as pool:
            if pool is not None:  # like load_pipeline() above, the workers' start-up (warm-up) is timed apart
                startup = time.perf_counter() - started
            started = time.perf_counter()
            enrich_frame(nlp, frame, batch_size=args.batch_size, pool=pool)
            timings.append((processes, time.perf_counter() - started))

    n = len(texts)
    print(f"posts: {n:,}  pipeline version: {version}  cores: {os.cpu_count()}")
    print(f"{'what':<40}{'seconds':>10}{'posts/s':>12}{'x VADER':>9}")
    print(f"{'VADER alone, 1 process (baseline)':<40}{vader_seconds:>10.2f}{n / vader_seconds:>12,.0f}{1:>9.2f}")
    for processes, seconds in timings:
        label = f"socialcx default pipeline, {processes} process{'es' if processes > 1 else ''}"
        print(f"{label:<40}{seconds:>10.2f}{n / seconds:>12,.0f}{seconds / vader_seconds:>9.2f}")
    print(f"worker pool start-up (spawn, pipeline loaded in each worker), once per enrich run: {startup:.1f} s")
    one = timings[0][1]
    print(f"VADER alone is {vader_seconds / one:.0%} of one process's time (the Hyperscan prefilter is "
          f"{'on' if _prefilter_active(nlp) else 'off: no wheel here'})")
    print("where one process's time goes (each component added in turn, the same posts, one process):")
    sample = texts[:10000]
    for name, seconds in _components(nlp, sample, args.batch_size):
        print(f"  {name:<38}{seconds * 1e6 / len(sample):>8.1f} us a post")


def _prefilter_active(nlp) -> bool:
    return nlp.get_pipe("socialcx_sentiment").prefilters["en"].active


def _components(nlp, texts: list[str], batch_size: int) -> list[tuple[str, float]]:
    """Seconds each component adds: the pipeline run with its first k components, k = 0 (the tokenizer) to all,
    the fastest of three runs each (a difference of two noisy timings is noisier still)."""
    names = list(nlp.pipe_names)
    cumulative = []
    for k in range(len(names) + 1):
        config = {"socialcx_categories": {"industries": ["airline"]}} if "socialcx_categories" in names[:k] else {}
        runs = []
        with nlp.select_pipes(enable=names[:k]):
            for _ in range(3):
                started = time.perf_counter()
                for _ in nlp.pipe(texts, batch_size=batch_size, component_cfg=config):
                    pass
                runs.append(time.perf_counter() - started)
        cumulative.append(min(runs))
    return [("tokenizer and spaCy's pipe", cumulative[0])] + [
        (name, cumulative[k + 1] - cumulative[k]) for k, name in enumerate(names)]


if __name__ == "__main__":
    main()
