"""Source ``crm``: customers and orders from CSV or Parquet files, or from any database SQLAlchemy reaches.

``location`` is a folder holding ``customers.csv|parquet`` and ``orders.csv|parquet``, or a SQLAlchemy URL
(``postgresql://…``, ``sqlite:///…``) whose database has ``customers`` and ``orders`` tables. Columns:

- customers: ``customer_id`` (required), ``social_handle``, ``name``, ``created_at``, ``email`` (optional: kept only
  as its digest ``email_hash``, to match survey respondents; the address itself is never stored);
- orders: ``order_id``, ``customer_id``, ``brand``, ``ordered_at``, ``amount`` (required), ``currency``, ``industry``.

Rows merge on (source, id); rows with missing ids, unparseable dates or non-numeric amounts are quarantined.
Both tables and the cursor are one transaction.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from extractors.load import LoadResult, SourceError, merge_source_table, quarantine, save_cursor, utcnow
from socialcx.core.pii import email_hash
from socialcx.core.warehouse import transaction

SOURCE = "crm"
CUSTOMER_COLUMNS = ["customer_id", "social_handle", "name", "created_at"]
ORDER_COLUMNS = ["order_id", "customer_id", "brand", "industry", "ordered_at", "amount", "currency"]


class CrmSourceError(SourceError):
    """The CRM cannot be read; the message names the location and the fix."""


def _read_table(location: str, table: str) -> pd.DataFrame:
    if "://" in location:
        from sqlalchemy import create_engine
        from sqlalchemy.exc import SQLAlchemyError

        safe = location.split("@")[-1] if "@" in location else location  # never echo a password
        try:
            engine = create_engine(location)
            with engine.connect() as connection:
                return pd.read_sql_table(table, connection).astype(object)
        except ValueError as exc:
            raise CrmSourceError(f"CRM database {safe} has no table {table!r}: {exc}") from exc
        except SQLAlchemyError as exc:
            raise CrmSourceError(f"CRM database {safe} cannot be read: {exc.__class__.__name__}: "
                                 f"{str(exc).splitlines()[0][:300]}") from exc
    folder = Path(location)
    for suffix in (".parquet", ".csv"):
        path = folder / f"{table}{suffix}"
        if path.exists():
            try:
                if suffix == ".csv":
                    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""]).astype(object)
                return pd.read_parquet(path).astype(object)
            except Exception as exc:
                raise CrmSourceError(f"CRM file {path} cannot be read: {exc}") from exc
    raise CrmSourceError(f"CRM folder {folder} has no {table}.csv or {table}.parquet; "
                         "put the CRM export there or set SOCIALCX_CRM to a SQLAlchemy URL")


def _split(frame: pd.DataFrame, problems: pd.Series) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    bad = problems != ""
    records = [(json.dumps({k: (None if pd.isna(v) else str(v)) for k, v in frame.loc[i].items()}), problems[i])
               for i in frame.index[bad]]
    return frame.loc[~bad], records


def _problems(frame: pd.DataFrame, checks: list[tuple[pd.Series, str]]) -> pd.Series:
    problems = pd.Series("", index=frame.index, dtype=object)
    for mask, reason in checks:
        problems[mask.fillna(True) & (problems == "")] = reason
    return problems


def _missing(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(True, index=frame.index)
    values = frame[column].astype("string")
    return values.isna() | (values.str.strip() == "")


def extract_crm(con: duckdb.DuckDBPyConnection, location: str, *, run_id: str) -> list[LoadResult]:
    if not location:
        raise CrmSourceError("no CRM location: set SOCIALCX_CRM to a folder of customers/orders files or a "
                             "SQLAlchemy URL, or pass it to `socialcx extract crm`")
    customers = _read_table(location, "customers")
    orders = _read_table(location, "orders")
    if "customer_id" not in customers:
        raise CrmSourceError(f"CRM customers at {location} have no customer_id column "
                             f"(columns: {', '.join(map(str, customers.columns))})")

    # the erasure register: a forgotten customer (id, handle, name or e-mail) and their orders never load again
    from socialcx.core.erasure import Register

    customers, orders, erased_customers, erased_orders = Register.load(con).filter_customers(customers, orders)
    # the e-mail address becomes its digest here, before anything is stored or logged
    email_hashes = customers["email"].map(email_hash) if "email" in customers else None
    customers = customers.reindex(columns=CUSTOMER_COLUMNS)
    customers["email_hash"] = email_hashes
    customers["created_at"] = pd.to_datetime(customers["created_at"], utc=True, errors="coerce", format="mixed")
    good_customers, bad_customers = _split(customers, _problems(customers, [
        (_missing(customers, "customer_id"), "missing customer_id"),
        (customers["customer_id"].astype("string").duplicated(), "duplicate customer_id within input"),
    ]))

    orders = orders.reindex(columns=ORDER_COLUMNS)
    raw_dates, raw_amounts = orders["ordered_at"], orders["amount"]
    orders["ordered_at"] = pd.to_datetime(orders["ordered_at"], utc=True, errors="coerce", format="mixed")
    orders["amount"] = pd.to_numeric(orders["amount"], errors="coerce")
    good_orders, bad_orders = _split(orders, _problems(orders, [
        (_missing(orders, "order_id"), "missing order_id"),
        (_missing(orders, "customer_id"), "missing customer_id"),
        (_missing(orders, "brand"), "missing brand"),
        (orders["ordered_at"].isna() & raw_dates.notna(), "unparseable ordered_at"),
        (orders["ordered_at"].isna(), "missing ordered_at"),
        (orders["amount"].isna() & raw_amounts.notna(), "amount is not a number"),
        (orders["amount"].isna(), "missing amount"),
        (orders["amount"] < 0, "negative amount"),
        (orders["order_id"].astype("string").duplicated(), "duplicate order_id within input"),
    ]))

    now = utcnow()
    results = []
    with transaction(con):
        for table, good, bad, key, total, erased in (
            ("raw.customers", good_customers, bad_customers, "customer_id", len(customers), erased_customers),
            ("raw.orders", good_orders, bad_orders, "order_id", len(orders), erased_orders),
        ):
            frame = good.assign(updated_at=now)
            if table == "raw.orders":
                frame["currency"] = frame["currency"].fillna("USD")
                frame["amount"] = frame["amount"].round(2)
            for column in frame.columns:
                if column.endswith("_id") or column in ("social_handle", "name", "brand", "industry", "currency",
                                                        "email_hash"):
                    frame[column] = frame[column].astype("string")
            inserted, updated = merge_source_table(con, table, frame, SOURCE, key, run_id)
            quarantine(con, SOURCE, [(r, f"{table}: {why}") for r, why in bad], run_id)
            result = LoadResult(table, read=total + erased, inserted=inserted, updated=updated, quarantined=len(bad),
                                erased=erased)
            for _, why in bad:
                result.reasons[why] = result.reasons.get(why, 0) + 1
            results.append(result)
        save_cursor(con, SOURCE, "orders", str(good_orders["ordered_at"].max()) if len(good_orders) else None, run_id)
    return results


def run(con: duckdb.DuckDBPyConnection, settings: Any, run_id: str, **options: Any) -> list[LoadResult]:
    """The stage's entry point: option location (SOCIALCX_CRM unless the command line gave one)."""
    return extract_crm(con, str(options.get("location") or ""), run_id=run_id)
