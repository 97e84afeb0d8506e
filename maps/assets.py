"""Offline map assets: Leaflet, MarkerCluster and our gridmap.js/css served by the app.

folium and streamlit-folium load their JavaScript and CSS from public CDNs by default; when a
CDN is blocked the map is blank. :func:`install_assets` copies the files shipped by the PyPI
packages XStatic-Leaflet and XStatic-Leaflet-MarkerCluster, and the app's own
map script and stylesheet (``maps/static/gridmap.js`` and ``gridmap.css``), into
``static/vendor/`` (served by Streamlit at ``/app/static/vendor/``), and
:func:`use_local_assets` points a folium map and its plugins at those copies.
:func:`inline_assets_html` renders a self-contained HTML page with every asset inlined.

Run ``python -m maps.assets`` once after installing the packages (``scripts/setup.sh`` does).

Examples
--------
Serve a map with the local files, or write it as one offline page::

    m = use_local_assets(folium.Map(tiles=None))
    html = inline_assets_html(m)
"""

from __future__ import annotations

import base64
import re
import shutil
import sys
from pathlib import Path

import folium
import folium.plugins

ROOT = Path(__file__).resolve().parent.parent
VENDOR_DIR = ROOT / "static" / "vendor"
#: the app's own map script and stylesheet (``window.gridmap``), served next to the vendor files
OWN_DIR = Path(__file__).resolve().parent / "static"
#: URL of ./static/vendor as seen from streamlit-folium's component frame
#: (``<base>/component/streamlit_folium.st_folium/index.html``); relative, so it also works
#: when Streamlit runs under a ``server.baseUrlPath``. Streamlit serves ./static at
#: ``<base>/app/static/`` (``server.enableStaticServing``).
URL_PREFIX = "../../app/static/vendor"


class AssetError(ValueError):
    """A vendor asset is missing (run ``python -m maps.assets``)."""


def _sources() -> dict[str, tuple[Path, tuple[str, ...]]]:
    """Vendor folder name -> (package data directory, files to copy)."""
    import xstatic.pkg.leaflet as leaflet
    import xstatic.pkg.leaflet_markercluster as cluster

    return {
        "leaflet": (
            Path(leaflet.BASE_DIR),
            (
                "leaflet.js",
                "leaflet.css",
                "images/layers.png",
                "images/layers-2x.png",
                "images/marker-icon.png",
                "images/marker-icon-2x.png",
                "images/marker-shadow.png",
            ),
        ),
        "markercluster": (
            Path(cluster.BASE_DIR),
            ("leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"),
        ),
        "gridmap": (OWN_DIR, ("gridmap.js", "gridmap.css")),
    }


#: (folium name, vendor-relative path) of every script and stylesheet a map may load.
JS = (("leaflet", "leaflet/leaflet.js"), ("gridmap", "gridmap/gridmap.js"))
CSS = (("leaflet_css", "leaflet/leaflet.css"), ("gridmap_css", "gridmap/gridmap.css"))
CLUSTER_JS = (("markerclusterjs", "markercluster/leaflet.markercluster.js"),)
CLUSTER_CSS = (
    ("markerclustercss", "markercluster/MarkerCluster.css"),
    ("markerclusterdefaultcss", "markercluster/MarkerCluster.Default.css"),
)


def install_assets(target: Path | None = None, *, force: bool = False) -> Path:
    """Copy the vendor files into `target` (default ``static/vendor``); cheap when up to date.

    A file is copied only when missing, different in size from its source or older than it
    (the app's own ``maps/static`` files change without changing size).
    """
    target = Path(target) if target is not None else VENDOR_DIR
    for folder, (base, files) in _sources().items():
        for rel in files:
            src = base / rel
            dst = target / folder / rel
            if not src.is_file():
                raise AssetError(f"{src}: not found in the installed package")
            stale = (
                not dst.is_file()
                or dst.stat().st_size != src.stat().st_size
                or dst.stat().st_mtime < src.stat().st_mtime
            )
            if force or stale:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
    return target


def url(rel: str) -> str:
    """The URL of a vendor file as served by Streamlit."""
    return f"{URL_PREFIX}/{rel}"


def _local(pairs: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    return [(name, url(rel)) for name, rel in pairs]


def use_local_assets(m: folium.Map) -> folium.Map:
    """Make `m` (and any MarkerCluster inside it) load only the app's own copies.

    Bootstrap, Font Awesome, awesome-markers and jQuery are dropped: our maps draw with circle
    markers, SVG/DivIcon symbols and plain HTML controls, and neither folium's templates nor
    streamlit-folium use jQuery (one script fewer to fetch and parse on every visit).
    """
    m.default_js = _local(JS)
    m.default_css = _local(CSS)
    for child in _walk(m):
        if isinstance(child, folium.plugins.MarkerCluster):
            child.default_js = _local(CLUSTER_JS)
            child.default_css = _local(CLUSTER_CSS)
    return m


def _walk(element):
    for child in element._children.values():
        yield child
        yield from _walk(child)


def external_links(m: folium.Map) -> list[str]:
    """Every script/stylesheet URL the map (or any element in it) would load from another host."""
    links = []
    for element in (m, *_walk(m)):
        for _, href in (*getattr(element, "default_js", []), *getattr(element, "default_css", [])):
            if re.match(r"^(https?:)?//", href):
                links.append(href)
    return links


def _read_vendor(path: str, vendor_dir: Path) -> str:
    rel = path[len(URL_PREFIX) + 1 :] if path.startswith(URL_PREFIX) else None
    if rel is None:
        raise AssetError(f"{path}: not a local vendor asset; cannot inline it")
    file = vendor_dir / rel
    if not file.is_file():
        install_assets(vendor_dir)
    return file.read_text(encoding="utf-8")


def _inline_css_images(css: str, folder: Path) -> str:
    """Replace ``url(images/x.png)`` in a stylesheet by data URIs."""

    def repl(match: re.Match) -> str:
        ref = match.group(1).strip("'\"")
        file = folder / ref
        if ref.startswith("data:") or not file.is_file():
            return match.group(0)
        data = base64.b64encode(file.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\(([^)]+)\)", repl, css)


def inline_assets_html(m: folium.Map, *, vendor_dir: Path | None = None) -> str:
    """A self-contained HTML page of map `m`: every script and stylesheet inlined.

    The page opens from a file or an e-mail attachment with no network access at all.
    """
    vendor_dir = Path(vendor_dir) if vendor_dir is not None else VENDOR_DIR
    install_assets(vendor_dir)
    use_local_assets(m)
    html = m.get_root().render()

    def script(match: re.Match) -> str:
        code = _read_vendor(match.group(1), vendor_dir).replace("</script", "<\\/script")
        return f"<script>{code}</script>"

    def style(match: re.Match) -> str:
        href = match.group(1)
        css = _read_vendor(href, vendor_dir)
        folder = (vendor_dir / href[len(URL_PREFIX) + 1 :]).parent
        return f"<style>{_inline_css_images(css, folder)}</style>"

    prefix = re.escape(URL_PREFIX)
    html = re.sub(rf'<script src="({prefix}/[^"]+)"></script>', script, html)
    html = re.sub(rf'<link rel="stylesheet" href="({prefix}/[^"]+)"\s*/>', style, html)
    leftover = re.findall(r'<(?:script|link)[^>]+(?:src|href)="((?:https?:)?//[^"]+)"', html)
    if leftover:
        raise AssetError(f"map still loads external assets: {', '.join(leftover)}")
    return html


def main(argv: list[str] | None = None) -> int:
    target = install_assets(force="--force" in (argv or sys.argv[1:]))
    print(
        f"map assets ready in {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
