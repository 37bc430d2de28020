"""Source ``file``: a drop folder of CSV, JSONL or Parquet files, in the twcs layout or a mapped one.

twcs ("Customer Support on Twitter") is native: ``tweet_id, author_id, inbound, created_at, text,
response_tweet_id, in_response_to_tweet_id``, with ``author_id`` the brand's handle on brand tweets.
Any other layout loads through a YAML column mapping (see ``tests/fixtures/file/mapping.yml``).

Each file is loaded once per content: ``raw.file_loads`` keeps its path and checksum, so an unchanged file
is skipped and a changed one is merged again (idempotently, on post ids). All files of one call are one
transaction: an unreadable file fails the call, naming the file, and nothing of the call is committed.

CSV is read by DuckDB with an explicit dialect and ``store_rejects``: a line with broken quoting, missing
columns or invalid UTF-8 is rejected on its own, with DuckDB's reason, and the other lines still load.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from extractors.load import LoadResult, SourceError, load_posts, quarantine, save_cursor
from socialcx.warehouse import transaction

SOURCE = "file"
TWCS_COLUMNS = ["tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id",
                "in_response_to_tweet_id"]
TWCS_TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"
MENTION = re.compile(r"@(\w{1,50})")
TRUE = {"true", "t", "1", "yes", "y"}
FALSE = {"false", "f", "0", "no", "n"}

FILE_LOADS_DDL = """
create table if not exists raw.file_loads (
    source      varchar not null,
    path        varchar not null,
    checksum    varchar not null,
    rows_read   bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    loaded_at   timestamptz not null,
    run_id      varchar not null,
    primary key (source, path, checksum)
)
"""


class FileSourceError(SourceError):
    """A file cannot be read at all; the message names it and says what to do."""


@dataclass
class Mapping:
    """How a non-twcs layout maps onto raw.posts."""

    columns: dict[str, str]  # raw.posts column -> file column
    created_at_format: str | None = None
    inbound_values: list[str] | None = None  # values of the inbound column meaning "customer"
    outbound_values: list[str] | None = None  # values meaning "brand"; any other value is quarantined
    brand_column: str | None = None

    @classmethod
    def from_file(cls, path: Path) -> Mapping:
        try:
            spec = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise FileSourceError(f"mapping file {path} cannot be read: {exc}") from exc
        required = {"post_id", "author_id", "created_at", "text", "is_inbound"}
        columns = (spec or {}).get("columns") or {}
        missing = required - set(columns)
        if missing:
            raise FileSourceError(f"mapping file {path} maps no column to {', '.join(sorted(missing))}; "
                                  f"add them under 'columns:' (raw.posts column: file column)")
        return cls(columns=columns, created_at_format=spec.get("created_at_format"),
                   inbound_values=[str(v).lower() for v in spec.get("inbound_values", [])] or None,
                   outbound_values=[str(v).lower() for v in spec.get("outbound_values", [])] or None,
                   brand_column=spec.get("brand_column"))


def checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, columns: list[str]) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in columns) + "}"
    con.execute("drop table if exists reject_errors; drop table if exists reject_scans")
    frame = con.execute(f"""
        select * from read_csv(?, auto_detect = false, header = true, columns = {spec}, delim = ',',
                               quote = '"', escape = '"', strict_mode = true, max_line_size = 10000000,
                               store_rejects = true, rejects_table = 'reject_errors', rejects_scan = 'reject_scans')
    """, [str(path)]).df()
    rejected = con.execute("""
        select line, arg_min(error_type || ': ' || error_message, column_idx) as reason,
               any_value(csv_line) as csv_line
        from reject_errors group by line order by line
    """).fetchall()
    con.execute("drop table if exists reject_errors; drop table if exists reject_scans")
    bad = [(json.dumps({"file": str(path), "line": line, "csv_line": csv_line}, ensure_ascii=False),
            f"unreadable CSV line ({reason})") for line, reason, csv_line in rejected]
    return frame, bad


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        import csv

        return next(csv.reader(handle))


def read_file(con: duckdb.DuckDBPyConnection, path: Path, columns: list[str] | None = None) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Rows as strings, plus (record, reason) for the rows that could not be read."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            try:
                header = _header(path)
            except StopIteration as exc:
                raise FileSourceError(f"file {path} is empty: it has no header line") from exc
            return _read_csv(con, path, columns or header)
        if suffix in (".jsonl", ".ndjson", ".json"):
            rows, bad = [], []
            with path.open("rb") as handle:
                for number, raw in enumerate(handle, start=1):
                    if not raw.strip():
                        continue
                    try:
                        record = json.loads(raw.decode("utf-8"))
                        if not isinstance(record, dict):
                            raise ValueError("not a JSON object")
                        rows.append({k: (None if v is None else v if isinstance(v, list) else str(v))
                                     for k, v in record.items()})
                    except (UnicodeDecodeError, ValueError) as exc:
                        bad.append((json.dumps({"file": str(path), "line": number,
                                                "raw": raw.decode("utf-8", errors="replace")[:2000]}),
                                    f"unreadable JSON line ({exc.__class__.__name__}: {str(exc)[:200]})"))
            return pd.DataFrame(rows), bad
        if suffix == ".parquet":
            return con.execute("select * from read_parquet(?)", [str(path)]).df().astype("string").astype(object), []
    except duckdb.Error as exc:
        raise FileSourceError(f"file {path} cannot be read as {suffix[1:]}: {exc}. Fix or remove it from the "
                              "drop folder and run again") from exc
    raise FileSourceError(f"file {path} has an unsupported type {suffix!r}; use .csv, .jsonl or .parquet")


def _parse_bool(series: pd.Series, true_values: list[str] | None = None,
                false_values: list[str] | None = None) -> pd.Series:
    """True/False from the given values (default: true/false, yes/no, 1/0); anything else is None."""
    trues, falses = set(true_values or TRUE), set(false_values or FALSE)
    if true_values and not false_values:
        falses = None  # only the inbound values are given: every other value means a brand post
    lowered = series.astype("string").str.strip().str.lower()
    return lowered.map(lambda v: None if v is pd.NA else True if v in trues
                       else False if falses is None or v in falses else None)


def _mentions(text: str, brand_lookup: dict[str, str]) -> list[str] | None:
    handles = MENTION.findall(text or "")
    known = [brand_lookup[h.lower()] for h in handles if h.lower() in brand_lookup]
    return known or (handles[:1] or None)


def to_posts(frame: pd.DataFrame, fmt: str, mapping: Mapping | None, known_brands: set[str]) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Map a file's rows onto raw.posts columns. Rows whose types are wrong come back as (record, reason)."""
    if fmt == "twcs":
        missing = set(TWCS_COLUMNS) - set(frame.columns)
        if missing:
            raise FileSourceError(f"not a twcs file: columns {', '.join(sorted(missing))} are missing; "
                                  "use --format mapped with a --mapping file for other layouts")
        posts = pd.DataFrame({
            "post_id": frame["tweet_id"], "author_id": frame["author_id"], "author_handle": frame["author_id"],
            "parent_post_id": frame["in_response_to_tweet_id"],
            "created_at": pd.to_datetime(frame["created_at"], format=TWCS_TIME_FORMAT, errors="coerce", utc=True),
            "text": frame["text"], "is_inbound": _parse_bool(frame["inbound"]),
        })
        raw_inbound = frame["inbound"]
    else:
        if mapping is None:
            raise FileSourceError("--format mapped needs --mapping FILE (a YAML column mapping)")
        absent = [c for c in mapping.columns.values() if c not in frame.columns]
        if absent:
            raise FileSourceError(f"mapped columns {', '.join(absent)} are not in the file "
                                  f"(it has {', '.join(map(str, frame.columns))}); fix the mapping")
        posts = pd.DataFrame({target: frame[column] for target, column in mapping.columns.items()})
        posts["created_at"] = pd.to_datetime(posts["created_at"], format=mapping.created_at_format or "mixed",
                                             errors="coerce", utc=True)
        raw_inbound = posts["is_inbound"]
        posts["is_inbound"] = _parse_bool(posts["is_inbound"], mapping.inbound_values, mapping.outbound_values)
    bad_type = posts["is_inbound"].isna() & raw_inbound.notna()
    records = [(json.dumps(frame.loc[i].to_dict(), default=str, ensure_ascii=False),
                f"inbound value {raw_inbound[i]!r} is not true/false") for i in frame.index[bad_type]]
    posts = posts.loc[~bad_type].copy()
    frame = frame.loc[posts.index]
    if "parent_post_id" in posts:
        posts["parent_post_id"] = posts["parent_post_id"].astype("string").str.split(",").str[0]
        posts["parent_post_id"] = posts["parent_post_id"].where(posts["parent_post_id"].str.strip() != "")
    # brands: authors of brand posts in this file, and the configured brands
    brand_lookup = {b.lower(): b for b in known_brands}
    brand_lookup.update({a.lower(): a for a in posts.loc[posts["is_inbound"] == False, "author_id"].dropna()})  # noqa: E712
    if mapping is not None and mapping.brand_column and mapping.brand_column in frame.columns:
        posts["brands_mentioned"] = [[b] if b and inbound else None
                                     for b, inbound in zip(frame[mapping.brand_column], posts["is_inbound"], strict=True)]
    else:
        posts["brands_mentioned"] = [
            _mentions(t, brand_lookup) if inbound else None
            for t, inbound in zip(posts["text"].astype(object).where(posts["text"].notna(), ""), posts["is_inbound"], strict=True)
        ]
    return posts, records


def extract_files(con: duckdb.DuckDBPyConnection, paths: list[Path], *, run_id: str, fmt: str = "twcs",
                  mapping: Mapping | None = None, source: str = SOURCE) -> list[LoadResult]:
    """Load files (or every supported file in folders) in one transaction."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".jsonl", ".ndjson", ".json", ".parquet"))
        elif path.exists():
            files.append(path)
        else:
            raise FileSourceError(f"file {path} does not exist; check the path or SOCIALCX_FILE_DROP")
    con.execute(FILE_LOADS_DDL)
    known_brands = {b for (b,) in con.execute("select handle from raw.brands").fetchall()}
    results = []
    with transaction(con):
        for path in files:
            result = LoadResult(table=f"raw.posts <- {path.name}")
            try:
                digest = checksum(path)
            except OSError as exc:
                raise FileSourceError(f"file {path} cannot be read ({exc.strerror}); check its permissions") from exc
            already = con.execute("select 1 from raw.file_loads where source = ? and path = ? and checksum = ?",
                                  [source, str(path.resolve()), digest]).fetchall()
            if already:
                result.notes.append(f"{path} is unchanged since it was last loaded: skipped")
                results.append(result)
                continue
            frame, unreadable = read_file(con, path)
            posts, wrong_types = to_posts(frame, fmt, mapping, known_brands) if len(frame) else (frame, [])
            bad = unreadable + wrong_types
            quarantine(con, source, bad, run_id)
            loaded = load_posts(con, posts, source, run_id) if len(posts) else LoadResult("raw.posts")
            result.read = len(frame) + len(unreadable)
            result.inserted, result.updated = loaded.inserted, loaded.updated
            result.quarantined = len(bad) + loaded.quarantined
            for _, reason in bad:
                key = reason.split(" (")[0]
                result.reasons[key] = result.reasons.get(key, 0) + 1
            for reason, count in loaded.reasons.items():
                result.reasons[reason] = result.reasons.get(reason, 0) + count
            con.execute("insert or replace into raw.file_loads values (?, ?, ?, ?, ?, ?, ?, ?)",
                        [source, str(path.resolve()), digest, result.read, result.loaded, result.quarantined,
                         datetime.now(UTC), run_id])
            results.append(result)
        # the run itself, for freshness: committed with the rows, even when every file was unchanged
        save_cursor(con, source, "files", f"{len(files)} file(s), last {files[-1].name}" if files else "no files", run_id)
    return results


def run(con: duckdb.DuckDBPyConnection, settings: Any, run_id: str, **options: Any) -> list[LoadResult]:
    """The stage's entry point: options paths, fmt (twcs|mapped) and mapping; default the drop folder."""
    mapping = Mapping.from_file(Path(str(options["mapping"]))) if options.get("mapping") else None
    paths = [Path(p) for p in options.get("paths") or []]
    if not paths:
        settings.file_drop.mkdir(parents=True, exist_ok=True)
        paths = [settings.file_drop]
    return extract_files(con, paths, run_id=run_id, fmt=str(options.get("fmt") or "twcs"), mapping=mapping)
