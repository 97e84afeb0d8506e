"""Concurrent imports and what an import costs the Service gaps page afterwards.

    .venv/bin/python bench/bench_reliability.py [--store STORE.gpkg] [--trials 8]

1. Two ``cli.py import --append`` processes started at the same moment into one store, for
   `--trials` trials: how many trials kept both sets of rows, and the wall time of a trial.
2. The Service gaps analysis of the page (``ui.gaps.compute.run_analysis``: the one
   ``geo.analysis.Analysis`` with the parts the page keeps, shared by every session) on a copy
   of the store: cold, again (cached), with one radius changed (one kind recomputed), after
   importing the shelters layer (only what reads shelters is computed again), and after a
   change of every layer version (the cost of clearing everything, as imports used to).
   Each line also says how many coverage parts were computed.

``--skip-appends`` runs only the second part.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data.importing import import_file  # noqa: E402
from data.store import GeoPackageStore  # noqa: E402
from geo.settings import DEFAULT_STORE  # noqa: E402
from tests._importing_fixtures import build_small_store, grids_frame  # noqa: E402


def concurrent_appends(folder: Path, trials: int) -> None:
    store = build_small_store(folder / "small.gpkg")
    kept, times = 0, []
    for trial in range(trials):
        files = []
        for side in (0, 1):
            frame = grids_frame(2)
            frame["grid_code"] = [f"T{trial:02d}{side}{i}" for i in range(2)]
            path = folder / f"t{trial}_{side}.geojson"
            path.write_text(frame.to_json(), encoding="utf-8")
            files.append(path)
        cmd = [sys.executable, "cli.py", "import", "--layer", "grids", "--append"]
        start = time.perf_counter()
        procs = [
            subprocess.Popen(
                [*cmd, str(f), "--into", str(store.path)],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for f in files
        ]
        codes = [p.wait() for p in procs]
        times.append(time.perf_counter() - start)
        codes_now = set(store.read("grids")["grid_code"])
        wanted = {f"T{trial:02d}{side}{i}" for side in (0, 1) for i in range(2)}
        kept += codes == [0, 0] and wanted <= codes_now
    print(
        f"concurrent --append imports: both kept in {kept} of {trials} trials; "
        f"trial wall time median {sorted(times)[len(times) // 2]:.2f} s"
    )


def gaps_after_import(source: Path, folder: Path) -> None:
    from streamlit.logger import set_log_level

    set_log_level("error")  # the cached functions run outside `streamlit run`: expected
    from ui import data_access as da
    from ui.gaps import compute

    path = folder / "store.gpkg"
    shutil.copyfile(source, path)
    store = GeoPackageStore(path)
    store.write_meta({"bench": "1"})  # every layer gets its own version token
    da.current_store = lambda: GeoPackageStore(path)  # the page's store, without Streamlit

    computed = 0

    def run(label: str, profile=None) -> None:
        nonlocal computed
        start = time.perf_counter()
        result = compute.run_analysis(
            str(path), store.version(), profile or da.profile(), lambda share, text: None
        )
        took = time.perf_counter() - start
        now = result.source.parts.computed("coverage")
        print(f"  {label:<48} {took:7.2f} s  coverage parts computed: {now - computed}")
        computed = now

    print(f"Service gaps analysis on {source.name} ({source.stat().st_size / 1e6:.0f} MB):")
    run("cold")
    run("again (cached)")
    run(
        "one radius changed (shelter_emergency 600 m)",
        da.profile().with_overrides(radii={"shelter_emergency": 600}),
    )
    shelters = folder / "shelters.geojson"
    store.read("shelters").to_file(shelters, driver="GeoJSON")
    import_file(shelters, layer="shelters", store=store)
    run("after importing shelters (only what reads it)")
    store.write(store.read_layers())  # a new version for every layer, as a full clear
    run("after every layer changed (the old clear-all)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=str(DEFAULT_STORE))
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--skip-appends", action="store_true")
    args = parser.parse_args()
    source = Path(args.store)
    if not source.exists():
        from data import demo

        demo.write_demo(source)
    with tempfile.TemporaryDirectory(prefix="bench-rel-") as tmp:
        if not args.skip_appends:
            concurrent_appends(Path(tmp), args.trials)
        gaps_after_import(source, Path(tmp))


if __name__ == "__main__":
    main()
