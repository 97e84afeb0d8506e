"""``python cli.py import FILE --layer LAYER [--into STORE.gpkg] [--replace|--append] ...``."""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from auth.model import PermissionDenied
from commands._users import UnknownUser, acting_user, add_as_argument, refuse
from data.importing import COORD_SYSTEMS, ImportFailed, import_file
from data.store import StoreError, open_store
from geo.crs import CRSError
from layers import LAYERS, SchemaError
from layers.messages import cli_lang, in_lang

HELP = "import a GeoJSON, zipped Shapefile, GeoPackage, CSV or XLSX file into a layer of the store"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="file to import (.geojson, .zip, .gpkg, .shp, .csv, .xlsx)")
    parser.add_argument("--layer", required=True, choices=list(LAYERS), help="target layer")
    parser.add_argument(
        "--into",
        default=None,
        metavar="STORE.gpkg",
        help="store to write (default: $GRIDMAP_STORE or the demo store)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--replace",
        dest="mode",
        action="store_const",
        const="replace",
        help="replace the layer (default)",
    )
    mode.add_argument(
        "--append",
        dest="mode",
        action="store_const",
        const="append",
        help="add rows to the layer; codes must stay unique",
    )
    parser.set_defaults(mode="replace")
    parser.add_argument(
        "--encoding",
        default=None,
        help="text encoding of CSV/GeoJSON/DBF, e.g. gbk, gb18030, utf-8 (default: detect)",
    )
    parser.add_argument(
        "--coords",
        default="wgs84",
        choices=COORD_SYSTEMS,
        help="offsets of lon/lat coordinates: wgs84 (also CGCS2000), gcj02 (Amap, "
        "Tencent) or bd09 (Baidu); converted to WGS84",
    )
    parser.add_argument("--lon", default=None, metavar="COL", help="longitude column of a CSV/XLSX")
    parser.add_argument("--lat", default=None, metavar="COL", help="latitude column of a CSV/XLSX")
    parser.add_argument(
        "--crs",
        default=None,
        metavar="EPSG:CODE",
        help="CRS of a file that states none, e.g. EPSG:4546 for Shiyan metres",
    )
    parser.add_argument(
        "--no-repair",
        dest="repair",
        action="store_false",
        help="reject invalid geometries instead of repairing them",
    )
    add_as_argument(parser)


def run(args: argparse.Namespace) -> int:
    store = open_store(args.into)
    try:
        user = acting_user(store, args.as_user, "import")
    except (UnknownUser, PermissionDenied) as exc:
        return refuse("import", exc)
    bar = tqdm(
        total=100,
        desc="import",
        unit="%",
        file=sys.stderr,
        leave=False,
        disable=not sys.stderr.isatty(),
    )

    def progress(share: float, text: str) -> None:
        bar.set_description(in_lang(text, cli_lang()))
        bar.update(max(0, round(share * 100) - bar.n))

    try:
        report = import_file(
            args.file,
            layer=args.layer,
            store=store,
            mode=args.mode,
            encoding=args.encoding,
            coords=args.coords,
            lon_col=args.lon,
            lat_col=args.lat,
            repair=args.repair,
            source_crs=args.crs,
            progress=progress,
            on_wait=lambda message: print(
                in_lang(message, cli_lang()), file=sys.stderr, flush=True
            ),
            user=user,
        )
    except (ImportFailed, SchemaError, StoreError, CRSError) as exc:
        bar.close()
        lang = cli_lang()  # $GRIDMAP_LANG or $LANG: zh_CN.UTF-8 gives Chinese
        text = exc.text(lang) if hasattr(exc, "text") else str(exc)
        head = "导入失败，数据库未改变：" if lang == "zh" else "import failed, store unchanged:"
        print(f"{head}\n{text}", file=sys.stderr)
        return 2
    bar.close()
    print(report.summary(cli_lang()))
    return 0
