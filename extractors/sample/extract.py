"""Source ``sample``: load the generated world into ``raw`` in one transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from extractors.load import (
    LoadResult,
    load_authors,
    load_posts,
    merge_frame,
    merge_source_table,
    quarantine,
    record_metric_history,
    record_shares,
    save_cursor,
)
from extractors.sample.generator import generate
from socialcx.core.erasure import Register
from socialcx.core.warehouse import transaction

SOURCE = "sample"


def extract_sample(con: duckdb.DuckDBPyConnection, *, posts: int, seed: int, end_date: str, run_id: str) -> list[LoadResult]:
    world = generate(posts=posts, seed=seed, end_date=end_date)
    results: list[LoadResult] = []
    with transaction(con):
        brands = world.brands
        inserted, updated = merge_frame(con, "raw.brands", brands, ["handle"],
                                        [c for c in brands.columns if c not in ("handle", "updated_at")])
        results.append(LoadResult("raw.brands", read=len(brands), inserted=inserted, updated=updated))
        customers, orders, erased_customers, erased_orders = Register.load(con).filter_customers(
            world.customers, world.orders)  # the erasure register: forgotten people are not generated back
        for table, frame, key, erased in (("raw.customers", customers, "customer_id", erased_customers),
                                          ("raw.orders", orders, "order_id", erased_orders)):
            inserted, updated = merge_source_table(con, table, frame, SOURCE, key, run_id)
            results.append(LoadResult(table, read=len(frame) + erased, inserted=inserted, updated=updated,
                                      erased=erased))
        frame = world.posts.assign(brands_mentioned=world.posts["brand"].map(lambda b: [b]))
        frame = frame.where(frame["is_inbound"], frame.assign(brands_mentioned=None)).drop(columns=["brand"])
        posts = load_posts(con, frame, SOURCE, run_id)
        results.append(posts)
        # the audience: who the authors are, how each opening post's engagement grew, who shared it
        results.append(load_authors(con, world.authors, SOURCE, run_id))
        observed = record_metric_history(con, world.metrics, SOURCE, run_id)
        shared = record_shares(con, world.shares, SOURCE, run_id)
        posts.notes.append(f"{observed} engagement observation(s) and {shared} share(s) recorded")
        # the owned channel: NPS answers and the follow-ups of detractors, as the survey source loads them
        results += load_sample_surveys(con, world.surveys, world.followups, run_id)
        cursor = world.posts["created_at"].max().isoformat()
        save_cursor(con, SOURCE, "posts", cursor, run_id)
    return results


def load_sample_surveys(con: duckdb.DuckDBPyConnection, surveys: pd.DataFrame, followups: pd.DataFrame,
                        run_id: str) -> list[LoadResult]:
    from extractors.survey.extract import load_followups, load_responses, to_followups, to_responses

    where = Path("sample world")
    responses, bad = to_responses(surveys, None, where, is_forgotten=Register.load(con).is_person)
    answers = LoadResult("raw.survey_responses", read=len(surveys), quarantined=len(bad))
    quarantine(con, SOURCE, bad, run_id)
    load_responses(con, responses, SOURCE, run_id, answers)
    rows, bad_followups = to_followups(followups, where)
    quarantine(con, SOURCE, bad_followups, run_id)
    inserted, updated = load_followups(con, rows, SOURCE, run_id)
    return [answers, LoadResult("raw.survey_followups", read=len(followups), inserted=inserted, updated=updated,
                                quarantined=len(bad_followups))]


def run(con: duckdb.DuckDBPyConnection, settings: Any, run_id: str, **options: Any) -> list[LoadResult]:
    """The stage's entry point: options posts, seed, end_date (resolved by the stage from the registry entry)."""
    return extract_sample(con, posts=int(options["posts"]), seed=int(options["seed"]),
                          end_date=str(options["end_date"]), run_id=run_id)
