"""Source ``survey``: NPS answers from a survey tool's exports (CSV, JSON Lines or Parquet), and the follow-ups
that close the loop with detractors.

The native layout has one row per answer: ``response_id, brand, respondent_id, social_handle, email, score,
comment, responded_at, touchpoint`` (``respondent_id`` is the CRM customer id where the survey knows it; handle,
e-mail and touchpoint are optional). Any other layout loads through a YAML mapping, as the file source's do;
``extractors/survey/mappings/`` holds the mappings of the Qualtrics and SurveyMonkey CSV exports.

An answer is immutable: it loads once on ``(source, response_id)``, a re-delivery of the same answer changes
nothing, and a re-delivery with other content is quarantined (a survey tool does not edit an answer; two answers
under one id are an export error to look at, not a silent overwrite). E-mail addresses become their digest
(``socialcx.core.pii.email_hash``) as the file is read: used to match a CRM customer, never stored, logged or
quarantined in clear.

The optional follow-ups file (``response_id, contacted_at, closed_at, team, note``) records when someone
contacted a detractor and when the issue was closed; rows merge on ``response_id``, so a later export that closes
a loop updates it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from extractors.file.extract import drop_paths, list_files, read_file, record_file_load, unchanged_since_loaded
from extractors.load import LoadResult, SourceError, merge_frame, quarantine, save_cursor, utcnow
from socialcx.core.pii import EMAIL, email_hash
from socialcx.core.warehouse import transaction

SOURCE = "survey"
COLUMNS = ["response_id", "brand", "respondent_id", "social_handle", "email", "score", "comment", "responded_at",
           "touchpoint"]
REQUIRED = ("response_id", "brand", "score", "responded_at")
FOLLOWUP_COLUMNS = ["response_id", "contacted_at", "closed_at", "team", "note"]
MAPPINGS = Path(__file__).parent / "mappings"


class SurveySourceError(SourceError):
    """A survey file or mapping cannot be used; the message names it and says what to do."""


@dataclass
class SurveyMapping:
    """How a survey tool's export maps onto the native columns."""

    columns: dict[str, str]  # native column -> file column
    defaults: dict[str, str] = field(default_factory=dict)  # native column -> a value for every row (a brand)
    header_rows: int = 1  # rows of headers before the answers (Qualtrics writes 3, SurveyMonkey 2)
    responded_at_format: str | None = None

    @classmethod
    def from_file(cls, path: Path) -> SurveyMapping:
        try:
            spec = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SurveySourceError(f"survey mapping {path} cannot be read: {exc}") from exc
        columns, defaults = spec.get("columns") or {}, spec.get("defaults") or {}
        unknown = sorted((set(columns) | set(defaults)) - set(COLUMNS))
        if unknown:
            raise SurveySourceError(f"survey mapping {path} maps {', '.join(unknown)}, which are not survey columns "
                                    f"({', '.join(COLUMNS)})")
        missing = [c for c in REQUIRED if c not in columns and c not in defaults]
        if missing:
            raise SurveySourceError(f"survey mapping {path} gives no column or default for {', '.join(missing)}; "
                                    "add them under 'columns:' (survey column: file column) or 'defaults:'")
        header_rows = spec.get("header_rows", 1)
        if not isinstance(header_rows, int) or header_rows < 1:
            raise SurveySourceError(f"survey mapping {path}: header_rows must be a whole number of at least 1")
        return cls(columns=columns, defaults={k: str(v) for k, v in defaults.items()}, header_rows=header_rows,
                   responded_at_format=spec.get("responded_at_format"))


def _masked(text: str) -> str:
    """A record as it may be kept: every e-mail address replaced by its digest."""
    return EMAIL.sub(lambda m: f"email-sha256:{email_hash(m.group(0))}", text)


def _text(value: object) -> str | None:
    """A cell as stripped text; None for a missing or blank one (NaN, NA, None, whitespace)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def _texts(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell through _text, as Python objects (a string column's map would turn None back into NaN)."""
    return pd.DataFrame({c: pd.Series([_text(v) for v in frame[c]], index=frame.index, dtype=object)
                         for c in frame.columns}, index=frame.index)


def _record(row: dict[str, Any]) -> str:
    row = {k: (None if v is None or (isinstance(v, float) and v != v) or v is pd.NA else str(v)) for k, v in row.items()}
    return _masked(json.dumps(row, ensure_ascii=False, default=str))


def _native(frame: pd.DataFrame, mapping: SurveyMapping | None, path: Path) -> pd.DataFrame:
    if mapping is None:
        missing = [c for c in REQUIRED if c not in frame.columns]
        if missing:
            raise SurveySourceError(f"survey file {path} has no column {', '.join(missing)} (it has "
                                    f"{', '.join(map(str, frame.columns))}); use the native layout or --format "
                                    "mapped with a --mapping (extractors/survey/mappings/ has two)")
        return frame.reindex(columns=COLUMNS)
    absent = [c for c in mapping.columns.values() if c not in frame.columns]
    if absent:
        raise SurveySourceError(f"survey file {path} has no column {', '.join(absent)} that the mapping names; "
                                "fix the mapping (a survey tool names the question columns after the survey)")
    rows = frame.iloc[mapping.header_rows - 1:]
    native = pd.DataFrame({c: rows[mapping.columns[c]] if c in mapping.columns else mapping.defaults.get(c)
                           for c in COLUMNS}, index=rows.index)
    return native


def to_responses(frame: pd.DataFrame, mapping: SurveyMapping | None, path: Path, now: datetime | None = None,
                 is_forgotten: Callable[[object], bool] | None = None) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Native rows, typed and checked: (good rows with email_hash, content_hash and email_forgotten, [(record,
    reason)]). ``is_forgotten`` (the erasure register's test) sees each e-mail address before it is hashed."""
    now = now or datetime.now(UTC)
    native = _texts(_native(frame, mapping, path))
    native["email_hash"] = native["email"].map(email_hash)
    forgotten_email = native["email"].map(lambda e: bool(is_forgotten and e and is_forgotten(e)))
    native = native.drop(columns=["email"])
    raw_scores = native["score"]
    scores = pd.to_numeric(raw_scores, errors="coerce")
    raw_dates = native["responded_at"]
    fmt = mapping.responded_at_format if mapping else None
    dates = pd.to_datetime(raw_dates, format=fmt or "mixed", errors="coerce", utc=True)
    good, bad = [], []
    seen: dict[str, str] = {}
    for i in native.index:
        row = native.loc[i].to_dict()
        score, at = scores[i], dates[i]
        if not row["response_id"]:
            reason = "missing response_id"
        elif not row["brand"]:
            reason = "no brand"
        elif raw_scores[i] is None:
            reason = "score is missing"
        elif pd.isna(score):
            reason = "score is not a number"
        elif score != int(score) or not 0 <= score <= 10:
            reason = "score outside 0-10"
        elif raw_dates[i] is None:
            reason = "no responded_at date"
        elif pd.isna(at):
            reason = "unparseable responded_at"
        elif at > now:
            reason = "responded_at in the future"
        else:
            reason = None
        if reason is None:
            row.update(score=int(score), responded_at=at, email_forgotten=bool(forgotten_email[i]))
            content = json.dumps({k: row[k] for k in ("brand", "respondent_id", "social_handle", "email_hash", "score",
                                                      "comment", "touchpoint")} | {"responded_at": at.isoformat()},
                                 sort_keys=True, ensure_ascii=False)
            row["content_hash"] = hashlib.md5(content.encode("utf-8")).hexdigest()
            earlier = seen.get(row["response_id"])
            if earlier == row["content_hash"]:
                continue  # the same answer twice in one delivery: once
            if earlier is not None:
                reason = "duplicate response_id with different content"
            else:
                seen[row["response_id"]] = row["content_hash"]
                good.append(row)
                continue
        bad.append((_record({"file": str(path), **{k: v for k, v in row.items()
                                                    if k not in ("content_hash", "email_forgotten")}}), reason))
    return pd.DataFrame(good, columns=[*[c for c in COLUMNS if c != "email"], "email_hash", "content_hash",
                                       "email_forgotten"]), bad


def load_responses(con: duckdb.DuckDBPyConnection, responses: pd.DataFrame, source: str, run_id: str,
                   result: LoadResult) -> None:
    """Insert new answers; an answer already stored with the same content is left alone, one with other content is
    quarantined. Forgotten people's answers are not stored. The caller owns the transaction."""
    from socialcx.core.erasure import Register

    if responses.empty:
        return
    register = Register.load(con)
    forgotten = responses["email_forgotten"].astype(bool)  # an e-mail given to `socialcx forget --email`
    if register:
        forgotten |= responses.apply(lambda r: register.is_person(r["respondent_id"])
                                     or register.is_person(r["social_handle"])
                                     or (isinstance(r["comment"], str) and register.holds(r["comment"])), axis=1)
    result.erased += int(forgotten.sum())
    responses = responses.loc[~forgotten].drop(columns=["email_forgotten"])
    stored = dict(con.execute("select response_id, content_hash from raw.survey_responses where source = ?",
                              [source]).fetchall())
    changed = responses["response_id"].map(stored).notna() & (responses["response_id"].map(stored)
                                                              != responses["content_hash"])
    new = responses.loc[~responses["response_id"].isin(stored.keys())]
    conflicts = [(_record(r), "response_id already loaded with different content")
                 for r in responses.loc[changed].drop(columns=["content_hash"]).to_dict("records")]
    quarantine(con, source, conflicts, run_id)
    result.quarantined += len(conflicts)
    result.reasons.update({"response_id already loaded with different content": len(conflicts)} if conflicts else {})
    if len(new):
        frame = new.assign(source=source, ingested_at=utcnow(), run_id=run_id)
        con.register("new_responses", frame)
        try:
            con.execute("insert into raw.survey_responses by name select * from new_responses")
        finally:
            con.unregister("new_responses")
    result.inserted += len(new)


def to_followups(frame: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    if "response_id" not in frame.columns:
        raise SurveySourceError(f"follow-ups file {path} has no response_id column (columns: "
                                f"{', '.join(FOLLOWUP_COLUMNS)})")
    rows = _texts(frame.reindex(columns=FOLLOWUP_COLUMNS))
    contacted = pd.to_datetime(rows["contacted_at"], format="mixed", errors="coerce", utc=True)
    closed = pd.to_datetime(rows["closed_at"], format="mixed", errors="coerce", utc=True)
    good, bad = [], []
    for i in rows.index:
        row = rows.loc[i].to_dict()
        if not row["response_id"]:
            reason = "missing response_id"
        elif row["contacted_at"] is not None and pd.isna(contacted[i]):
            reason = "unparseable contacted_at"
        elif row["closed_at"] is not None and pd.isna(closed[i]):
            reason = "unparseable closed_at"
        elif pd.notna(closed[i]) and pd.notna(contacted[i]) and closed[i] < contacted[i]:
            reason = "closed_at before contacted_at"
        else:
            good.append({"response_id": row["response_id"],
                         "contacted_at": None if pd.isna(contacted[i]) else contacted[i],
                         "closed_at": None if pd.isna(closed[i]) else closed[i],
                         "team": row["team"], "note": row["note"]})
            continue
        bad.append((_record({"file": str(path), **row}), reason))
    frame = pd.DataFrame(good, columns=FOLLOWUP_COLUMNS).drop_duplicates("response_id", keep="last")
    return frame, bad


def load_followups(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, source: str, run_id: str) -> tuple[int, int]:
    """Merge follow-ups on (source, response_id): a later export that closes a loop updates it."""
    if frame.empty:
        return 0, 0
    frame = frame.assign(source=source, updated_at=utcnow(), run_id=run_id)
    frame["contacted_at"] = pd.to_datetime(frame["contacted_at"], utc=True)
    frame["closed_at"] = pd.to_datetime(frame["closed_at"], utc=True)
    return merge_frame(con, "raw.survey_followups", frame, ["source", "response_id"],
                       ["contacted_at", "closed_at", "team", "note"])


def extract_surveys(con: duckdb.DuckDBPyConnection, paths: list[Path], *, run_id: str,
                    mapping: SurveyMapping | None = None, followups: Path | None = None,
                    source: str = SOURCE) -> list[LoadResult]:
    """Load survey files (or every supported file in folders), and a follow-ups file, in one transaction. A file
    unchanged since it was loaded is skipped."""
    from socialcx.core.erasure import Register

    files = list_files(paths, SurveySourceError, "survey file", "SOCIALCX_SURVEY_DROP")
    results = []
    with transaction(con):
        register = Register.load(con)
        for path in files:
            result = LoadResult(table=f"raw.survey_responses <- {path.name}")
            digest, already = unchanged_since_loaded(con, source, path, SurveySourceError)
            if already:
                result.notes.append(f"{path} is unchanged since it was last loaded: skipped")
                results.append(result)
                continue
            frame, unreadable = read_file(con, path)
            unreadable = [(_masked(record), reason) for record, reason in unreadable]
            responses, wrong = (to_responses(frame, mapping, path, is_forgotten=register.is_person) if len(frame)
                                else (pd.DataFrame(), []))
            header_rows = (mapping.header_rows - 1) if mapping is not None else 0
            result.read = len(frame) - min(header_rows, len(frame)) + len(unreadable)
            bad = unreadable + wrong
            quarantine(con, source, bad, run_id)
            result.quarantined = len(bad)
            for _, reason in bad:
                key = reason.split(" (")[0]
                result.reasons[key] = result.reasons.get(key, 0) + 1
            load_responses(con, responses, source, run_id, result)
            record_file_load(con, source, path, digest, result, run_id)
            results.append(result)
        if followups is not None:
            frame, unreadable = read_file(con, followups)
            rows, bad = to_followups(frame, followups)
            bad = [(_masked(record), why) for record, why in unreadable] + bad
            quarantine(con, source, bad, run_id)
            inserted, updated = load_followups(con, rows, source, run_id)
            result = LoadResult("raw.survey_followups", read=len(frame) + len(unreadable), inserted=inserted,
                                updated=updated, quarantined=len(bad))
            for _, reason in bad:
                result.reasons[reason] = result.reasons.get(reason, 0) + 1
            results.append(result)
        save_cursor(con, source, "responses", f"{len(files)} file(s), last {files[-1].name}" if files else "no files",
                    run_id)
    return results


def run(con: duckdb.DuckDBPyConnection, settings: Any, run_id: str, **options: Any) -> list[LoadResult]:
    """The stage's entry point: options paths, format, mapping, followups (resolved from the registry entry)."""
    mapping = None
    if options.get("format") == "mapped":
        if not options.get("mapping"):
            raise SurveySourceError("--format mapped needs --mapping FILE (extractors/survey/mappings/ holds the "
                                    "Qualtrics and SurveyMonkey ones)")
        mapping = SurveyMapping.from_file(Path(options["mapping"]))
    paths = drop_paths(options.get("paths"), SurveySourceError,
                       "no survey files to load: give PATH arguments or set SOCIALCX_SURVEY_DROP")
    followups = Path(str(options["followups"])) if options.get("followups") else None
    return extract_surveys(con, paths, run_id=run_id, mapping=mapping, followups=followups)
