"""The floors: socialcx.core imports nothing above it, and the leaf packages (extractors, nlp, expectations)
import socialcx.core only. Read from the source (every import statement, function-level ones included)."""

from __future__ import annotations

import ast

import pytest

from tests.support import ROOT

PROJECT = ("socialcx", "extractors", "nlp", "expectations", "dags")


def imports(package: str) -> set[tuple[str, str]]:
    """(file, imported module) for every import of a project module in ``package``."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
            found |= {(str(path.relative_to(ROOT)), n) for n in names if n.split(".")[0] in PROJECT}
    return found


def test_the_ground_floor_imports_nothing_above_it():
    upward = {(f, m) for f, m in imports("socialcx/core") if not m.startswith("socialcx.core")}
    assert upward == set()


@pytest.mark.parametrize("leaf", ["extractors", "nlp", "expectations"])
def test_leaf_packages_stand_on_the_ground_floor_only(leaf):
    upward = {(f, m) for f, m in imports(leaf)
              if not m.startswith((leaf, "socialcx.core")) and m != "socialcx"}
    assert upward == set()
    assert not {(f, m) for f, m in imports(leaf) if m == "socialcx"}  # `from socialcx import x` reaches past core


def test_the_check_sees_imports_at_all():
    # a check that finds no imports would pass vacuously
    assert ("extractors/load.py", "socialcx.core.warehouse") in imports("extractors")
    assert ("socialcx/core/warehouse.py", "socialcx.core.ddl") in imports("socialcx/core")


@pytest.mark.parametrize("package", ["socialcx/serving", "socialcx/governance"])
def test_serving_and_governance_stand_on_the_ground_floor_only(package):
    # the stages call them; they never call a stage back (the dbt runner included)
    upward = {(f, m) for f, m in imports(package) if not m.startswith(("socialcx.core", package.replace("/", ".")))}
    assert upward == set()


def _connects(package: str) -> set[tuple[str, str]]:
    """(file, call) for every ``duckdb.connect``/``psycopg2.connect`` call in ``package``."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "connect"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in ("duckdb", "psycopg2")):
                found.add((str(path.relative_to(ROOT)), f"{node.func.value.id}.connect"))
    return found


def test_only_the_ground_floor_opens_a_database_connection():
    # the working file, the published file, a scratch database and PostgreSQL: socialcx.core.warehouse and
    # socialcx.core.postgres open them; everything else asks those
    outside = {hit for package in PROJECT for hit in _connects(package) if not hit[0].startswith("socialcx/core/")}
    assert outside == set()
    assert ("socialcx/core/warehouse.py", "duckdb.connect") in _connects("socialcx/core")  # the check sees calls
    assert ("socialcx/core/postgres.py", "psycopg2.connect") in _connects("socialcx/core")
