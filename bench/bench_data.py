"""Benchmark the demo generator and store loading; prints wall time and peak memory.

    .venv/bin/python bench/bench_data.py            # scales 1 and 10
    .venv/bin/python bench/bench_data.py --scale 1 --scale 7 --residents 1000000

Each step runs in its own subprocess so that its peak resident memory (``ru_maxrss`` from
``os.wait4``) is its own: ``cli.py demo --out ... --scale N``; a breakdown of that time
(``build_demo``, writing the layers, computing the indicator snapshots that ``write_demo``
also stores); and a fresh Python process that reads every layer of the store written
(``GeoPackageStore.read``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BREAKDOWN_SCRIPT = """
import json, sys, tempfile, time
import pandas as pd
from data.demo import build_demo
from data.store import GeoPackageStore
out = {}
t = time.perf_counter()
city = build_demo(scale=float(sys.argv[1]), residents=int(sys.argv[2]) or None)
out["build_demo"] = time.perf_counter() - t
tables = dict(city.layers)
tables["gridmap_meta"] = pd.DataFrame({"key": list(city.meta), "value": list(city.meta.values())})
with tempfile.TemporaryDirectory() as tmp:
    t = time.perf_counter()
    GeoPackageStore(tmp + "/layers.gpkg").write(tables)
    out["write layers"] = time.perf_counter() - t
try:
    from data.snapshots import demo_snapshot_tables
except ImportError:
    pass
else:
    t = time.perf_counter()
    demo_snapshot_tables(city)
    out["snapshots (2 periods)"] = time.perf_counter() - t
print(json.dumps(out))
"""

LOAD_SCRIPT = """
import json, sys, time
from data.store import GeoPackageStore
from layers import LAYERS
store = GeoPackageStore(sys.argv[1])
rows, times = {}, {}
start = time.perf_counter()
for name in LAYERS:
    t = time.perf_counter()
    rows[name] = len(store.read(name))
    times[name] = time.perf_counter() - t
print(json.dumps({"total": time.perf_counter() - start, "rows": rows, "times": times}))
"""


def _run(cmd: list[str]) -> tuple[float, float, str]:
    """Run `cmd`; return wall seconds, peak RSS in MB of that process, and its stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {proc.returncode}")
    return wall, usage.ru_maxrss / 1024, out  # Linux reports ru_maxrss in KiB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, action="append", help="scales to run (default 1 and 10)"
    )
    parser.add_argument("--residents", type=int, default=None, help="passed to cli.py demo")
    args = parser.parse_args(argv)
    scales = args.scale or [1.0, 10.0]
    python = sys.executable
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"{'scale':>6} {'step':<28} {'seconds':>8} {'peak MB':>8}  detail")
    with tempfile.TemporaryDirectory() as tmp:
        for scale in scales:
            path = Path(tmp) / f"demo_{scale:g}.gpkg"
            cmd = [python, "cli.py", "demo", "--out", str(path), "--scale", f"{scale:g}"]
            if args.residents:
                cmd += ["--residents", str(args.residents)]
            wall, peak, out = _run(cmd)
            size = path.stat().st_size / 1e6
            residents = next((line for line in out.splitlines() if "residents" in line), "")
            print(
                f"{scale:>6g} {'cli.py demo (build+write)':<28} {wall:>8.2f} {peak:>8.0f}  {size:.1f} MB file; {residents}"
            )
            _, _, out = _run(
                [python, "-c", BREAKDOWN_SCRIPT, f"{scale:g}", str(args.residents or 0)]
            )
            parts = json.loads(out.strip().splitlines()[-1])
            detail = ", ".join(f"{name} {sec:.2f} s" for name, sec in parts.items())
            print(f"{'':>6} {'  of which (in-process)':<28} {'':>8} {'':>8}  {detail}")
            wall, peak, out = _run([python, "-c", LOAD_SCRIPT, str(path)])
            info = json.loads(out.strip().splitlines()[-1])
            rows = sum(info["rows"].values())
            print(
                f"{scale:>6g} {'load every layer':<28} {wall:>8.2f} {peak:>8.0f}  {rows:,} rows; reading {info['total']:.2f} s"
            )
            slowest = sorted(info["times"].items(), key=lambda kv: -kv[1])[:3]
            detail = ", ".join(f"{n} {info['rows'][n]:,} rows {t:.2f} s" for n, t in slowest)
            print(f"{'':>6} {'  slowest layers':<28} {'':>8} {'':>8}  {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
