"""How long importing real-sized files and checking a store take.

    .venv/bin/python bench/bench_import.py [--store STORE.gpkg]

Exports layers of the demo store (generated if missing) to the formats offices send (GBK CSV
with 经度/纬度, zipped GBK Shapefile without .cpg, GeoJSON, XLSX, GCJ-02 CSV), imports each
into a temporary copy of the store and prints the time per file, then times ``check_store``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyogrio  # noqa: E402

from data.importing import check_store, import_file  # noqa: E402
from data.store import GeoPackageStore  # noqa: E402
from geo.crs import wgs84_to_gcj02  # noqa: E402
from geo.settings import DEFAULT_STORE  # noqa: E402


def table_with_lonlat(frame):
    table = frame.drop(columns="geometry")
    table["经度"], table["纬度"] = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=str(DEFAULT_STORE))
    args = parser.parse_args()
    source = Path(args.store)
    if not source.exists():
        from data import demo

        demo.write_demo(source)
    tmp = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        store_path = tmp / "store.gpkg"
        shutil.copyfile(source, store_path)
        store = GeoPackageStore(store_path)
        population, grids = store.read("population"), store.read("grids")
        villages = store.read("villages")

        files = []
        csv = tmp / "population.csv"
        table_with_lonlat(population).to_csv(csv, index=False, encoding="gbk")
        files.append((csv, "population", {}))
        gcj = tmp / "population_gcj02.csv"
        table = table_with_lonlat(population)
        table["经度"], table["纬度"] = wgs84_to_gcj02(
            table["经度"].to_numpy(), table["纬度"].to_numpy()
        )
        table.to_csv(gcj, index=False)
        files.append((gcj, "population", {"coords": "gcj02"}))
        geojson = tmp / "grids.geojson"
        grids.to_file(geojson, driver="GeoJSON")
        files.append((geojson, "grids", {}))
        shp_dir = tmp / "shp"
        shp_dir.mkdir()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pyogrio.write_dataframe(grids, shp_dir / "grids.shp", encoding="GBK")
        (shp_dir / "grids.cpg").unlink()
        shp_zip = tmp / "grids.zip"
        with zipfile.ZipFile(shp_zip, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in shp_dir.iterdir():
                zf.write(f, f.name)
        files.append((shp_zip, "grids", {}))
        xlsx = tmp / "villages.xlsx"
        table_with_lonlat(villages).to_excel(xlsx, index=False)
        files.append((xlsx, "villages", {}))

        print(f"store: {source} ({source.stat().st_size / 1e6:.1f} MB)")
        for path, layer, kwargs in files:
            start = time.perf_counter()
            report = import_file(path, layer=layer, store=store, **kwargs)
            took = time.perf_counter() - start
            size = path.stat().st_size / 1e6
            print(f"import {path.name:<24} {size:7.1f} MB  {report.rows:>7} rows  {took:6.2f} s")
        start = time.perf_counter()
        issues = check_store(store)
        print(f"check_store: {len(issues)} problem(s), {time.perf_counter() - start:.2f} s")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (max RSS): {peak:.0f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
