"""GeoPackage vs PostGIS: read every layer, and ``cli.py gaps``, each as a whole process.

    .venv/bin/python bench/bench_store.py                    # scales 1 and 7, 3 runs each
    .venv/bin/python bench/bench_store.py --scale 1 --runs 1

For each scale: the demo city is written to a GeoPackage (``cli.py demo --no-snapshots``),
a throwaway PostGIS cluster is started (as the tests do: Unix socket, fsync off), the schema is
made with ``cli.py db init`` and the demo copied in with ``cli.py db copy`` (timed once).
Then each step runs ``--runs`` times in a fresh Python process (interpreter start and imports
included) and the median wall time is printed:

* ``read``: ``open_store(X).read_layers()``;
* ``gaps``: ``cli.py gaps --data X --json``.

Needs root (the cluster runs as the ``postgres`` OS user) and PostgreSQL 15 with PostGIS 3
(``bash scripts/setup.sh --test``).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

READ = "from data.store import open_store; open_store(__import__('sys').argv[1]).read_layers()"


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, action="append", help="demo scale (repeatable)")
    parser.add_argument("--runs", type=int, default=3, help="runs per step (median shown)")
    args = parser.parse_args()
    scales = args.scale or [1.0, 7.0]

    from tests._pg_cluster import PgCluster

    py = sys.executable
    cluster = PgCluster()
    rows = []
    try:
        for scale in scales:
            with tempfile.TemporaryDirectory() as tmp:
                gpkg = str(Path(tmp) / "demo.gpkg")
                demo = ["cli.py", "demo", "--out", gpkg, "--scale", str(scale), "--no-snapshots"]
                subprocess.run([py, *demo], cwd=ROOT, check=True, capture_output=True)
                name = cluster.new_database()
                owner = cluster.url("gridmap_owner", name)
                subprocess.run(
                    [py, "cli.py", "db", "init", "--owner-url", owner],
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                )
                url = cluster.url("gridmap_app", name)
                copy_s = timed([py, "cli.py", "db", "copy", "--from", gpkg, "--to", url])
                for store, value in (("GeoPackage", gpkg), ("PostGIS", url)):
                    for step, cmd in (
                        ("read", [py, "-c", READ, value]),
                        ("gaps", [py, "cli.py", "gaps", "--data", value, "--json"]),
                    ):
                        times = [timed(cmd) for _ in range(args.runs)]
                        rows.append((scale, store, step, statistics.median(times), min(times)))
                rows.append((scale, "PostGIS", "db copy (once)", copy_s, copy_s))
    finally:
        cluster.stop()
    print(f"{'scale':>5}  {'store':<10}  {'step':<15}  {'median s':>9}  {'min s':>7}")
    for scale, store, step, median, low in rows:
        print(f"{scale:>5g}  {store:<10}  {step:<15}  {median:>9.2f}  {low:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
