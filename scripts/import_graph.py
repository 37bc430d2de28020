"""Which packages import which: every import statement (function-level ones included), socialcx split into its
floors. Usage: .venv/bin/python scripts/import_graph.py [PROJECT_DIR]  (tests/socialcx/test_layers.py enforces it)."""

from __future__ import annotations

import ast
import collections
import sys
from pathlib import Path

TOP = ("socialcx", "extractors", "nlp", "expectations", "dags")
FLOORS = ("core", "stages", "serving", "governance", "cli")


def unit(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "socialcx" and len(parts) > 1 and parts[1] in FLOORS:
        return f"socialcx.{parts[1]}"
    return parts[0]


def graph(root: Path) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = collections.defaultdict(set)
    for package in TOP:
        for path in (root / package).rglob("*.py"):
            source = unit(".".join(path.relative_to(root).with_suffix("").parts))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    # `from socialcx import stages` imports socialcx.stages
                    names = [f"{node.module}.{a.name}" if node.module == "socialcx" else node.module for a in node.names]
                else:
                    continue
                edges[source] |= {unit(n) for n in names if n.split(".")[0] in TOP and unit(n) != source}
    return edges


if __name__ == "__main__":
    for source, targets in sorted(graph(Path(sys.argv[1] if len(sys.argv) > 1 else ".")).items()):
        if targets:
            print(f"{source:20} -> {', '.join(sorted(targets))}")
