"""The model registry: which NLP pipeline enriches posts, in ``ops.nlp_models``.

    socialcx nlp promote nlp/models/mybrand-20261201120000    # the DAG and `socialcx run` use it from now on
    socialcx nlp rollback                                      # back to the one promoted before (or the rules)

Every promotion is a row: the model's version, its directory, the SHA-256 of the data it was trained on, its
held-out figures and when it was promoted; a rollback stamps ``rolled_back_at`` on the current row. The current
model is the newest promotion not rolled back; with none, the rule pipeline (``default``).
``SOCIALCX_NLP_MODEL``, when it names a model directory, overrides the registry (a run pinned by its operator);
its default, ``default``, defers to the registry.

Switching models re-enriches: posts are keyed by (post, pipeline version), so a new version's rows are written
for every post whose text is still kept (past raw-text retention only the redacted text remains, and the label
of the version that read the original stands: fct_posts.pipeline_version says which) and the marts read them. A
rollback deletes the rows of the model rolled back and of the one it returns to, so that those posts are
annotated afresh by the restored model and the marts' incremental models see the change (rows kept from before
would be older than what the marts already built).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from nlp.pipeline import PIPELINE_VERSION, load_pipeline

DEFAULT = "default"


class RegistryError(ValueError):
    """A model cannot be promoted or rolled back; the message says why and what to do."""


@dataclass(frozen=True)
class Promotion:
    model_version: str
    model_dir: str
    data_sha256: str | None
    figures: dict
    promoted_at: datetime


def current(con: duckdb.DuckDBPyConnection) -> Promotion | None:
    row = con.execute("""
        select model_version, model_dir, data_sha256, figures, promoted_at from ops.nlp_models
        where rolled_back_at is null order by promoted_at desc, promotion desc limit 1""").fetchone()
    if row is None:
        return None
    return Promotion(row[0], row[1], row[2], json.loads(row[3] or "{}"), row[4])


def model_for_enrichment(con: duckdb.DuckDBPyConnection, configured: str = DEFAULT) -> str:
    """The model enrichment uses: ``configured`` (``SOCIALCX_NLP_MODEL``) when it names a model directory, else the
    promoted one, else the rules. ``default`` (what .env.example sets) defers to the registry."""
    if configured not in ("", DEFAULT):
        return configured
    promoted = current(con)
    if promoted is None or promoted.model_dir == DEFAULT:
        return DEFAULT
    if not (Path(promoted.model_dir) / "config.cfg").exists():
        raise RegistryError(f"the promoted NLP model {promoted.model_version} is gone from {promoted.model_dir}; "
                            "put the directory back, or run `socialcx nlp rollback` to return to the previous model")
    return promoted.model_dir


def promote(con: duckdb.DuckDBPyConnection, model: str) -> Promotion:
    """Make ``model`` (a directory from ``nlp train``, or ``default`` for the rules) the one enrichment uses."""
    if model in ("", DEFAULT):
        model_dir, version, meta = DEFAULT, PIPELINE_VERSION, {}
    else:
        path = Path(model).resolve()
        try:
            nlp, version = load_pipeline(str(path))  # it must load here before it is trusted with every post
        except (OSError, ValueError) as exc:
            raise RegistryError(f"{model} cannot be promoted: {exc}") from exc
        model_dir, meta = str(path), nlp.meta
    now = datetime.now(UTC)
    promotion = Promotion(version, model_dir, (meta.get("training_data") or {}).get("sha256"),
                          meta.get("performance") or {}, now)
    number = con.execute("select coalesce(max(promotion), 0) + 1 from ops.nlp_models").fetchone()[0]
    con.execute("insert into ops.nlp_models (promotion, model_version, model_dir, data_sha256, figures, promoted_at) "
                "values (?, ?, ?, ?, ?, ?)",
                [number, promotion.model_version, promotion.model_dir, promotion.data_sha256,
                 json.dumps(promotion.figures), now])
    return promotion


def rollback(con: duckdb.DuckDBPyConnection) -> tuple[Promotion, Promotion | None]:
    """Retire the current promotion; returns it and the one now current (None: the rules)."""
    retired = current(con)
    if retired is None:
        raise RegistryError("nothing to roll back: no model has been promoted (the rule pipeline is in use)")
    con.execute("update ops.nlp_models set rolled_back_at = ? where rolled_back_at is null and promotion = "
                "(select promotion from ops.nlp_models where rolled_back_at is null "
                " order by promoted_at desc, promotion desc limit 1)", [datetime.now(UTC)])
    restored = current(con)
    versions = [retired.model_version, restored.model_version if restored else PIPELINE_VERSION]
    # their posts are pending again, behind the marks of those versions (nlp/enrich.py, enriched_up_to): the marks
    # go first, so that a crash before the deletes below leaves every post read again, never one skipped
    con.execute("delete from ops.enrich_marks where pipeline_version in (?, ?)", versions)
    # posts whose text is still kept: annotated afresh by the restored model
    con.execute("""delete from enriched.post_nlp as e where pipeline_version in (?, ?)
                   and not exists (select 1 from raw.text_expired as x
                                   where x.source = e.source and x.post_id = e.post_id)""", versions)
    # posts past raw-text retention cannot be annotated again: the retired model's label goes where another
    # version's remains, and stays (the post's only label, fct_posts.pipeline_version says whose) where none does
    con.execute("""delete from enriched.post_nlp as e where pipeline_version = ?
                   and exists (select 1 from enriched.post_nlp as other
                               where other.source = e.source and other.post_id = e.post_id
                                 and other.pipeline_version <> e.pipeline_version)""", [retired.model_version])
    con.execute("delete from enriched.survey_nlp where pipeline_version in (?, ?)", versions)
    return retired, restored


def history(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("select promotion, model_version, model_dir, promoted_at, rolled_back_at, figures "
                       "from ops.nlp_models order by promotion").fetchall()
