"""Extract throughput: the sample generator, and a twcs file load, against plain DuckDB in the same run.

    .venv/bin/python benchmarks/extract.py --posts 1000000

Prints rows/s for: generating the world; writing it as a twcs CSV (setup, not timed against anything);
DuckDB alone reading that CSV into a table (the floor); and `extract_files` loading it (validation,
quarantine, merge on keys, cursor), once into an empty warehouse and once again (unchanged: skipped) and
once more with the checksum changed (every row compared, nothing written).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import duckdb

    from extractors.file.extract import extract_files
    from extractors.sample.generator import generate
    from extractors.sample.twcs import write_twcs
    from socialcx.core.warehouse import open_warehouse

    rows: list[tuple[str, float, int]] = []
    started = time.perf_counter()
    world = generate(args.posts, seed=args.seed)
    rows.append(("generate sample world (posts)", time.perf_counter() - started, len(world.posts)))

    with tempfile.TemporaryDirectory() as tmp:
        path = write_twcs(world, Path(tmp) / "twcs.csv")
        n = len(world.posts)
        del world

        con = duckdb.connect(str(Path(tmp) / "floor.duckdb"))
        started = time.perf_counter()
        con.execute("create table t as select * from read_csv(?, all_varchar = true)", [str(path)])
        rows.append(("DuckDB read_csv -> table (floor)", time.perf_counter() - started, n))
        con.close()

        with open_warehouse(Path(tmp) / "wh.duckdb") as wh:
            started = time.perf_counter()
            [first] = extract_files(wh, [path], run_id="bench-1")
            rows.append(("extract file, empty warehouse", time.perf_counter() - started, first.read))
            started = time.perf_counter()
            extract_files(wh, [path], run_id="bench-2")
            rows.append(("extract file again (unchanged)", time.perf_counter() - started, n))
            with path.open("a") as handle:
                handle.write("\n")
            started = time.perf_counter()
            [third] = extract_files(wh, [path], run_id="bench-3")
            rows.append(("extract file again (re-merged)", time.perf_counter() - started, third.read))
            assert third.inserted == 0 and third.updated == 0

    floor = rows[1][1]
    print(f"posts: {n:,}")
    print(f"{'what':<36}{'seconds':>9}{'rows/s':>12}{'x floor':>9}")
    for what, seconds, count in rows:
        print(f"{what:<36}{seconds:>9.2f}{count / seconds:>12,.0f}{seconds / floor:>9.1f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
