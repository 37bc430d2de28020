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

from extractors.load import AUTHOR_FIELDS, LoadResult, SourceError, load_authors, load_posts, quarantine, save_cursor
from socialcx.core.pii import MENTION
from socialcx.core.warehouse import transaction

SOURCE = "file"
TWCS_COLUMNS = ["tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id",
                "in_response_to_tweet_id"]
TWCS_REQUIRED = ["tweet_id", "author_id", "inbound", "created_at", "text"]  # the reply links may be absent (JSON nulls)
TWCS_TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"
TRUE = {"true", "t", "1", "yes", "y"}
FALSE = {"false", "f", "0", "no", "n"}



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
    authors: dict[str, str] | None = None  # raw.authors field (handle, followers_count, ...) -> file column
    source_path: str = ""  # the file being read, for messages

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
        authors = spec.get("authors") or {}
        unknown = sorted(set(authors) - set(AUTHOR_FIELDS[1:]))
        if not isinstance(authors, dict) or unknown:
            raise FileSourceError(f"mapping file {path}: 'authors:' maps raw.authors fields to file columns; "
                                  f"{', '.join(unknown) or 'it'} is not one of {', '.join(AUTHOR_FIELDS[1:])}")
        return cls(columns=columns, created_at_format=spec.get("created_at_format"),
                   inbound_values=[str(v).lower() for v in spec.get("inbound_values", [])] or None,
                   outbound_values=[str(v).lower() for v in spec.get("outbound_values", [])] or None,
                   brand_column=spec.get("brand_column"), authors=authors or None)


def checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


MAX_LINE_BYTES = 10_000_000
# what a file starts with when it is not a text table, and what to do about it
SIGNATURES = [
    (b"\x1f\x8b", "gzip-compressed data", "decompress it (gunzip) and drop the .csv/.jsonl inside"),
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook is one)", "export the sheet as CSV (UTF-8) or unzip it"),
    (b"PAR1", "a Parquet file", "give it the .parquet extension"),
    (b"\xff\xfe", "UTF-16 text (little endian)", "save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`)"),
    (b"\xfe\xff", "UTF-16 text (big endian)", "save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`)"),
    (b"\x00\x00\xfe\xff", "UTF-32 text", "save it as UTF-8"),
]
UTF8_BOM = b"\xef\xbb\xbf"


def _check_text(path: Path, kind: str) -> None:
    """Refuse, naming the file, what it really holds and the fix, a file that is not UTF-8 text."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    for magic, what, fix in SIGNATURES:
        if head.startswith(magic):
            raise FileSourceError(f"file {path} is {what}, not {kind} text: {fix}, then run again")
    if b"\x00" in head:
        raise FileSourceError(f"file {path} holds binary data (NUL bytes), not {kind} text: export it as UTF-8 "
                              f"{kind} or remove it from the drop folder")


def _long_lines(path: Path, limit: int = MAX_LINE_BYTES) -> dict[int, bytes]:
    """Physical lines (1 = the header) longer than ``limit`` bytes, with their first 2,000 bytes.

    DuckDB's CSV reader drops a line far over its maximum without recording it as rejected; these are
    quarantined here instead, so every line is either loaded or quarantined.
    """
    found: dict[int, bytes] = {}
    line, length, head = 1, 0, b""
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            parts = block.split(b"\n")
            for index, part in enumerate(parts):
                if length < 2000:
                    head += part[: 2000 - length]
                length += len(part)
                if index < len(parts) - 1:  # the line ends in this block
                    if length > limit:
                        found[line] = head
                    line, length, head = line + 1, 0, b""
    if length > limit:
        found[line] = head
    return found


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, columns: list[str]) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    # the column names travel as a bind parameter: a header is data, never SQL
    con.execute("drop table if exists reject_errors; drop table if exists reject_scans")
    frame = con.execute("""
        select * from read_csv(?, auto_detect = false, header = true, columns = ?, delim = ',',
                               quote = '"', escape = '"', strict_mode = true, max_line_size = ?,
                               store_rejects = true, rejects_table = 'reject_errors', rejects_scan = 'reject_scans')
    """, [str(path), {c: "VARCHAR" for c in columns}, MAX_LINE_BYTES]).df()
    rejected = con.execute("""
        select line, arg_min(error_type || ': ' || error_message, column_idx) as reason,
               any_value(csv_line) as csv_line
        from reject_errors group by line order by line
    """).fetchall()
    con.execute("drop table if exists reject_errors; drop table if exists reject_scans")
    long = _long_lines(path)
    bad = [(json.dumps({"file": str(path), "line": line, "csv_line": csv_line}, ensure_ascii=False),
            f"unreadable CSV line ({reason})") for line, reason, csv_line in rejected if line not in long]
    bad += [(json.dumps({"file": str(path), "line": line, "csv_line_start": head.decode("utf-8", "replace")},
                        ensure_ascii=False),
             f"unreadable CSV line (LINE SIZE OVER MAXIMUM: longer than {MAX_LINE_BYTES:,} bytes)")
            for line, head in sorted(long.items())]
    return frame, bad


def _header(path: Path) -> list[str]:
    import csv

    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        header = next(csv.reader(handle))
    blank = [str(i + 1) for i, name in enumerate(header) if not name.strip()]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if blank or duplicated:
        problem = (f"column(s) {', '.join(blank)} have no name" if blank
                   else f"column names repeat: {', '.join(duplicated)}")
        raise FileSourceError(f"file {path} has an unusable header ({problem}); give every column a distinct name")
    return header


# the JSON reader keeps these as lists; any other nested value in a row sends the row to quarantine
LIST_FIELDS = {"brands_mentioned"}


def _scalar_row(record: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A JSON object's values as strings (None for null); the reason if a value is nested where a scalar belongs."""
    row: dict[str, Any] = {}
    for key, value in record.items():
        if value is None or (isinstance(value, float) and value != value):
            row[key] = None
        elif isinstance(value, list) and key in LIST_FIELDS and all(isinstance(v, str) for v in value):
            row[key] = value
        elif isinstance(value, dict | list):
            return row, f"field {key!r} holds a nested {type(value).__name__}, not a single value"
        elif isinstance(value, bool):
            row[key] = "true" if value else "false"
        else:
            row[key] = str(value)
    return row, None


def _read_jsonl(path: Path) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    rows, bad = [], []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(UTF8_BOM):
                raw = raw[len(UTF8_BOM):]
            if not raw.strip():
                continue
            reason = None
            try:
                record = json.loads(raw.decode("utf-8"))
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
                row, reason = _scalar_row(record)
            except RecursionError:
                reason = "unreadable JSON line (nested too deeply)"
            except (UnicodeDecodeError, ValueError) as exc:
                reason = f"unreadable JSON line ({exc.__class__.__name__}: {str(exc)[:200]})"
            if reason is None:
                rows.append(row)
            else:
                bad.append((json.dumps({"file": str(path), "line": number,
                                        "raw": raw.decode("utf-8", errors="replace")[:2000]}), reason))
    return pd.DataFrame(rows), bad


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    table = con.execute("select * from read_parquet(?)", [str(path)]).fetchall()
    names = [d[0] for d in con.description]
    rows, bad = [], []
    for number, values in enumerate(table, start=1):
        record = {}
        for name, value in zip(names, values, strict=True):
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, bytes):
                value = value.decode("utf-8", errors="replace")
            record[name] = value
        row, reason = _scalar_row(record)
        if reason is None:
            rows.append(row)
        else:
            bad.append((json.dumps({"file": str(path), "row": number, **{k: str(v)[:500] for k, v in record.items()}},
                                   ensure_ascii=False, default=str), reason))
    return pd.DataFrame(rows, columns=names) if rows else pd.DataFrame(columns=names), bad


def read_file(con: duckdb.DuckDBPyConnection, path: Path, columns: list[str] | None = None) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Rows as strings, plus (record, reason) for the rows that could not be read."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            _check_text(path, "CSV")
            try:
                header = _header(path)
            except StopIteration as exc:
                raise FileSourceError(f"file {path} is empty: it has no header line") from exc
            return _read_csv(con, path, columns or header)
        if suffix in (".jsonl", ".ndjson", ".json"):
            _check_text(path, "JSON Lines")
            return _read_jsonl(path)
        if suffix == ".parquet":
            return _read_parquet(con, path)
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else exc.__class__.__name__
        raise FileSourceError(f"file {path} cannot be read as {suffix[1:]} ({first}). Fix or remove it from the "
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


def _twcs_times(values: pd.Series) -> pd.Series:
    """twcs's "Tue Oct 31 22:10:47 +0000 2017"; an ISO 8601 time (a Parquet timestamp, a re-export) is read too."""
    parsed = pd.to_datetime(values, format=TWCS_TIME_FORMAT, errors="coerce", utc=True)
    missing = parsed.isna() & values.notna()
    if missing.any():
        parsed[missing] = pd.to_datetime(values[missing], format="ISO8601", errors="coerce", utc=True)
    return parsed


NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}\b")


def _day_first(values: pd.Series, path: str) -> bool | None:
    """For numeric dates like 03/04/2026: True if the file writes the day first, False if the month; None if it
    has no such dates. A file that mixes both orders, or whose every such date reads both ways, is refused:
    guessing would put a post on the wrong day without a trace."""
    parts = values.dropna().astype(str).str.extract(NUMERIC_DATE).dropna().astype(int)
    if parts.empty:
        return None
    first, second = parts[0], parts[1]
    month_first_possible = bool((first <= 12).all())
    day_first_possible = bool((second <= 12).all())
    if month_first_possible and not day_first_possible:
        return False
    if day_first_possible and not month_first_possible:
        return True
    if not month_first_possible:
        example_day = values.dropna().astype(str)[parts.index[(first > 12).argmax()]]
        example_month = values.dropna().astype(str)[parts.index[(second > 12).argmax()]]
        problem = f"mixes day-first ({example_day!r}) and month-first ({example_month!r}) dates"
    else:
        problem = "has only dates that read both day-first and month-first (e.g. 03/04 is 3 April or March 4)"
    raise FileSourceError(f"file {path} {problem}; set created_at_format in the mapping (e.g. '%d/%m/%Y %H:%M' "
                          "or '%m/%d/%Y %H:%M'), or export ISO 8601 dates (2026-04-03T10:00:00Z)")


def _mentions(text: str, brand_lookup: dict[str, str]) -> list[str] | None:
    handles = MENTION.findall(text or "")
    known = [brand_lookup[h.lower()] for h in handles if h.lower() in brand_lookup]
    return known or (handles[:1] or None)


def to_posts(frame: pd.DataFrame, fmt: str, mapping: Mapping | None, known_brands: set[str]) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Map a file's rows onto raw.posts columns. Rows whose types are wrong come back as (record, reason)."""
    if fmt == "twcs":
        missing = set(TWCS_REQUIRED) - set(frame.columns)
        if "in_response_to_tweet_id" not in frame.columns:
            frame = frame.assign(in_response_to_tweet_id=None)
        if missing:
            raise FileSourceError(f"not a twcs file: columns {', '.join(sorted(missing))} are missing; "
                                  "use --format mapped with a --mapping file for other layouts")
        posts = pd.DataFrame({
            "post_id": frame["tweet_id"], "author_id": frame["author_id"], "author_handle": frame["author_id"],
            "parent_post_id": frame["in_response_to_tweet_id"],
            "created_at": _twcs_times(frame["created_at"]),
            "text": frame["text"], "is_inbound": _parse_bool(frame["inbound"]),
        })
        raw_inbound = frame["inbound"]
    else:
        if mapping is None:
            raise FileSourceError("--format mapped needs --mapping FILE (a YAML column mapping)")
        absent = [c for c in [*mapping.columns.values(), *(mapping.authors or {}).values()] if c not in frame.columns]
        if absent:
            raise FileSourceError(f"mapped columns {', '.join(absent)} are not in the file "
                                  f"(it has {', '.join(map(str, frame.columns))}); fix the mapping")
        posts = pd.DataFrame({target: frame[column] for target, column in mapping.columns.items()})
        day_first = None if mapping.created_at_format else _day_first(posts["created_at"], mapping.source_path)
        posts["created_at"] = pd.to_datetime(posts["created_at"], format=mapping.created_at_format or "mixed",
                                             dayfirst=bool(day_first), errors="coerce", utc=True)
        raw_inbound = posts["is_inbound"]
        posts["is_inbound"] = _parse_bool(posts["is_inbound"], mapping.inbound_values, mapping.outbound_values)
    # a row whose direction is missing or unknown cannot be counted either way: it waits in quarantine
    bad_type = posts["is_inbound"].isna()
    raw_text = raw_inbound.astype("string")
    missing = raw_text.isna() | (raw_text.str.strip() == "")
    records = [(json.dumps(frame.loc[i].to_dict(), default=str, ensure_ascii=False),
                "missing inbound value" if missing[i] else f"inbound value {raw_inbound[i]!r} is not true/false")
               for i in frame.index[bad_type]]
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


SUFFIXES = (".csv", ".jsonl", ".ndjson", ".json", ".parquet")


def drop_paths(given: object, error: type[SourceError], hint: str) -> list[Path]:
    """A drop source's paths option: the command line's paths, or the settings' drop folder (created on first
    use). ``hint`` ends the error when there is neither."""
    if not given:
        raise error(hint)
    if isinstance(given, list | tuple):
        return [Path(p) for p in given]
    folder = Path(str(given))
    folder.mkdir(parents=True, exist_ok=True)
    return [folder]


def list_files(paths: list[Path], error: type[SourceError], what: str, env: str) -> list[Path]:
    """The files given, and every supported file (SUFFIXES) in the folders given, in name order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
        elif path.exists():
            files.append(path)
        else:
            raise error(f"{what} {path} does not exist; check the path or {env}")
    return files


def unchanged_since_loaded(con: duckdb.DuckDBPyConnection, source: str, path: Path,
                           error: type[SourceError]) -> tuple[str, bool]:
    """The file's checksum, and whether raw.file_loads holds it already (the file is then skipped)."""
    try:
        digest = checksum(path)
    except OSError as exc:
        raise error(f"file {path} cannot be read ({exc.strerror}); check its permissions") from exc
    loaded = con.execute("select 1 from raw.file_loads where source = ? and path = ? and checksum = ?",
                         [source, str(path.resolve()), digest]).fetchall()
    return digest, bool(loaded)


def record_file_load(con: duckdb.DuckDBPyConnection, source: str, path: Path, digest: str, result: LoadResult,
                     run_id: str) -> None:
    con.execute("insert or replace into raw.file_loads values (?, ?, ?, ?, ?, ?, ?, ?)",
                [source, str(path.resolve()), digest, result.read, result.loaded, result.quarantined,
                 datetime.now(UTC), run_id])


def extract_files(con: duckdb.DuckDBPyConnection, paths: list[Path], *, run_id: str, fmt: str = "twcs",
                  mapping: Mapping | None = None, source: str = SOURCE) -> list[LoadResult]:
    """Load files (or every supported file in folders) in one transaction."""
    files = list_files(paths, FileSourceError, "file", "SOCIALCX_FILE_DROP")
    known_brands = {b for (b,) in con.execute("select handle from raw.brands").fetchall()}
    results = []
    with transaction(con):
        for path in files:
            result = LoadResult(table=f"raw.posts <- {path.name}")
            digest, already = unchanged_since_loaded(con, source, path, FileSourceError)
            if already:
                result.notes.append(f"{path} is unchanged since it was last loaded: skipped")
                results.append(result)
                continue
            frame, unreadable = read_file(con, path)
            if mapping is not None:
                mapping.source_path = str(path)
            posts, wrong_types = to_posts(frame, fmt, mapping, known_brands) if len(frame) else (frame, [])
            bad = unreadable + wrong_types
            quarantine(con, source, bad, run_id)
            loaded = load_posts(con, posts, source, run_id) if len(posts) else LoadResult("raw.posts")
            if mapping is not None and mapping.authors and len(posts):
                # the optional author columns of a mapped layout: the audience of who wrote each row
                authors = pd.DataFrame({"author_id": posts["author_id"].astype("string"),
                                        **{field: frame.loc[posts.index, column]
                                           for field, column in mapping.authors.items()}})
                if "is_verified" in authors:
                    authors["is_verified"] = _parse_bool(authors["is_verified"])
                described = load_authors(con, authors.drop_duplicates("author_id", keep="last"), source, run_id)
                loaded.notes.append(f"{described.inserted} new and {described.updated} updated author(s)")
            result.read = len(frame) + len(unreadable)
            result.inserted, result.updated = loaded.inserted, loaded.updated
            result.quarantined = len(bad) + loaded.quarantined
            result.erased = loaded.erased
            result.notes += loaded.notes
            for _, reason in bad:
                key = reason.split(" (")[0]
                result.reasons[key] = result.reasons.get(key, 0) + 1
            for reason, count in loaded.reasons.items():
                result.reasons[reason] = result.reasons.get(reason, 0) + count
            record_file_load(con, source, path, digest, result, run_id)
            results.append(result)
        # the run itself, for freshness: committed with the rows, even when every file was unchanged
        save_cursor(con, source, "files", f"{len(files)} file(s), last {files[-1].name}" if files else "no files", run_id)
    return results


def run(con: duckdb.DuckDBPyConnection, settings: Any, run_id: str, **options: Any) -> list[LoadResult]:
    """The stage's entry point: options paths, format (twcs|mapped) and mapping."""
    mapping = Mapping.from_file(Path(str(options["mapping"]))) if options.get("mapping") else None
    paths = drop_paths(options.get("paths"), FileSourceError,
                       "no files to load: give PATH arguments or set SOCIALCX_FILE_DROP to the drop folder")
    return extract_files(con, paths, run_id=run_id, fmt=str(options.get("format") or "twcs"), mapping=mapping)
