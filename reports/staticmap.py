"""Static maps for reports: matplotlib, no tiles, with legend, scale bar, north arrow and labels.

Everything is drawn in the city's metric CRS, so the scale bar is exact in metres. A map is a
list of :class:`MapLayer` drawn bottom to top; areas named in ``labels`` get their names at a
representative point.

Example::

    fig = static_map([MapLayer(districts, "区县", kind="polygon", facecolor="none")],
                     title="十堰市", labels=districts, crs="EPSG:4546")
    png = figure_png(fig)
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.patheffects as pe  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import FancyArrow, Patch, Rectangle  # noqa: E402

from geo.crs import to_metric  # noqa: E402
from reports.fonts import matplotlib_font  # noqa: E402

NICE_LENGTHS_M = (
    50,
    100,
    200,
    250,
    500,
    1000,
    2000,
    2500,
    5000,
    10000,
    20000,
    25000,
    50000,
    100000,
)


@dataclass
class MapLayer:
    """One layer of a static map.

    Attributes
    ----------
    frame
        Features (any CRS; reprojected to the map CRS).
    label
        Legend entry (ignored when ``categories`` is given).
    kind
        ``"polygon"``, ``"line"`` or ``"point"``.
    column, categories
        Colour features by ``column`` using ``categories`` (value -> (colour, legend label)).
    """

    frame: gpd.GeoDataFrame
    label: str
    kind: str = "polygon"
    facecolor: str = "#90caf9"
    edgecolor: str = "#455a64"
    linewidth: float = 0.6
    alpha: float = 0.8
    size: float = 12.0
    marker: str = "o"
    column: str | None = None
    categories: Mapping[object, tuple[str, str]] | None = None
    legend: bool = True
    zorder: int = 1


def _tight(fig: plt.Figure) -> None:
    """tight_layout without the warning matplotlib gives for very small figures."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Tight layout not applied", category=UserWarning)
        fig.tight_layout()


def _font() -> dict:
    return {"family": matplotlib_font()}


def nice_length(span_m: float) -> float:
    """A round scale-bar length of about a fifth of the map width."""
    goal = span_m / 5.0
    fitting = [x for x in NICE_LENGTHS_M if x <= goal]
    return float(fitting[-1] if fitting else NICE_LENGTHS_M[0])


def add_scale_bar(ax: plt.Axes, *, lang: str = "zh") -> float:
    """Draw a two-segment scale bar in the lower-left corner; returns its length in metres."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    w, h = x1 - x0, y1 - y0
    length = nice_length(w)
    bx, by = x0 + 0.04 * w, y0 + 0.05 * h
    bh = 0.012 * h
    half = length / 2
    ax.add_patch(
        Rectangle((bx, by), half, bh, facecolor="black", edgecolor="black", lw=0.8, zorder=50)
    )
    ax.add_patch(
        Rectangle(
            (bx + half, by), half, bh, facecolor="white", edgecolor="black", lw=0.8, zorder=50
        )
    )
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    kw = {
        "fontsize": 7,
        "zorder": 51,
        "path_effects": [pe.withStroke(linewidth=2.5, foreground="white")],
        **_font(),
    }
    ax.text(bx, by + 1.8 * bh, "0", ha="center", va="bottom", **kw)
    ax.text(bx + length, by + 1.8 * bh, text, ha="center", va="bottom", **kw)
    ax.text(
        bx + half, by - 0.8 * bh, "比例尺" if lang == "zh" else "Scale", ha="center", va="top", **kw
    )
    return length


def add_north_arrow(ax: plt.Axes, *, lang: str = "zh") -> None:
    """An arrow pointing up (grid north of the metric CRS) with 北/N in the upper-right corner."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    w, h = x1 - x0, y1 - y0
    ax_x, ax_y = x1 - 0.07 * w, y1 - 0.17 * h
    ax.add_patch(
        FancyArrow(
            ax_x,
            ax_y,
            0,
            0.09 * h,
            width=0.012 * w,
            head_width=0.04 * w,
            head_length=0.045 * h,
            length_includes_head=True,
            facecolor="black",
            edgecolor="black",
            zorder=50,
        )
    )
    ax.text(
        ax_x,
        ax_y + 0.1 * h,
        "北\nN" if lang == "zh" else "N",
        ha="center",
        va="bottom",
        fontsize=8,
        zorder=51,
        path_effects=[pe.withStroke(linewidth=2.5, foreground="white")],
        **_font(),
    )


def _draw(ax: plt.Axes, layer: MapLayer, frame: gpd.GeoDataFrame) -> list:
    handles: list = []
    if frame.empty:
        return handles
    groups: list[tuple[gpd.GeoDataFrame, str, str]]
    if layer.column and layer.categories:
        groups = []
        for value, (color, label) in layer.categories.items():
            part = frame[frame[layer.column] == value]
            if len(part):
                groups.append((part, color, label))
    else:
        groups = [(frame, layer.facecolor, layer.label)]
    for part, color, label in groups:
        if layer.kind == "point":
            pts = (
                part.geometry.representative_point()
                if not (part.geom_type == "Point").all()
                else part.geometry
            )
            ax.scatter(
                pts.x,
                pts.y,
                s=layer.size,
                c=color,
                marker=layer.marker,
                edgecolors=layer.edgecolor,
                linewidths=layer.linewidth,
                alpha=layer.alpha,
                zorder=layer.zorder,
            )
            handle = Line2D(
                [],
                [],
                marker=layer.marker,
                linestyle="",
                markerfacecolor=color,
                markeredgecolor=layer.edgecolor,
                markersize=max(4.0, np.sqrt(layer.size)),
                label=label,
            )
        elif layer.kind == "line":
            part.boundary.plot(
                ax=ax,
                color=color,
                linewidth=layer.linewidth,
                alpha=layer.alpha,
                zorder=layer.zorder,
            )
            handle = Line2D([], [], color=color, linewidth=max(layer.linewidth, 1.0), label=label)
        else:
            face = "none" if color == "none" else color
            part.plot(
                ax=ax,
                facecolor=face,
                edgecolor=layer.edgecolor,
                linewidth=layer.linewidth,
                alpha=layer.alpha,
                zorder=layer.zorder,
            )
            handle = Patch(
                facecolor=face, edgecolor=layer.edgecolor, alpha=layer.alpha, label=label
            )
        if layer.legend:
            handles.append(handle)
    return handles


def static_map(
    layers: Sequence[MapLayer],
    *,
    crs: str,
    title: str = "",
    labels: gpd.GeoDataFrame | None = None,
    label_column: str = "name",
    extent: gpd.GeoDataFrame | None = None,
    lang: str = "zh",
    figsize: tuple[float, float] = (7.0, 6.2),
    dpi: int = 150,
    legend_title: str | None = None,
) -> plt.Figure:
    """Draw `layers` (bottom to top) in the metric `crs` with legend, scale bar and north arrow.

    Parameters
    ----------
    layers
        Layers to draw, bottom first.
    crs
        Metric CRS of the map (the city profile's ``metric_crs``).
    title
        Title above the map.
    labels
        Areas whose ``label_column`` is written at a representative point.
    extent
        Features whose bounds set the map extent (default: all layers).
    """
    font = matplotlib_font()
    fig, ax = plt.subplots(figsize=figsize, dpi=dpi)
    ax.set_aspect("equal")
    handles: list = []
    projected = [
        to_metric(layer.frame, crs, name=layer.label) if len(layer.frame) else layer.frame
        for layer in layers
    ]
    for layer, frame in zip(layers, projected, strict=True):
        handles.extend(_draw(ax, layer, frame))
    bounds_src = (
        [to_metric(extent, crs)]
        if extent is not None and len(extent)
        else [f for f in projected if len(f)]
    )
    if bounds_src:
        b = np.array([f.total_bounds for f in bounds_src])
        minx, miny, maxx, maxy = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
        pad = 0.04 * max(maxx - minx, maxy - miny, 1.0)
        ax.set_xlim(minx - pad, maxx + pad)
        ax.set_ylim(miny - pad, maxy + pad)
    if labels is not None and len(labels):
        lab = to_metric(labels, crs)
        pts = lab.geometry.representative_point()
        for x, y, text in zip(pts.x, pts.y, lab[label_column].astype(str), strict=True):
            ax.text(
                x,
                y,
                text,
                ha="center",
                va="center",
                fontsize=7.5,
                family=font,
                zorder=40,
                color="#212121",
                path_effects=[pe.withStroke(linewidth=2.5, foreground="white")],
            )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for spine in ax.spines.values():
        spine.set_edgecolor("#9e9e9e")
    if title:
        ax.set_title(title, fontsize=12, family=font)
    if bounds_src:
        add_scale_bar(ax, lang=lang)
        add_north_arrow(ax, lang=lang)
    if handles:
        # outside the map frame, to its right: a legend inside would cover data (the east of
        # the city, suggested sites); the saved figure's tight box takes it in
        leg = ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            borderaxespad=0.0,
            fontsize=7,
            prop={"family": font, "size": 7},
            framealpha=0.9,
            title=legend_title,
            title_fontproperties={"family": font, "size": 7.5},
        )
        leg.set_zorder(60)
    _tight(fig)
    return fig


def figure_png(fig: plt.Figure, *, dpi: int | None = None, close: bool = True) -> bytes:
    """PNG bytes of a figure (closed afterwards unless ``close=False``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi, bbox_inches="tight")
    if close:
        plt.close(fig)
    return buf.getvalue()


def bar_chart(
    names: Sequence[str],
    values: Sequence[float],
    *,
    target: float | None = None,
    colors: Sequence[str] | None = None,
    title: str = "",
    percent: bool = True,
    figsize: tuple[float, float] = (7.0, 3.6),
    dpi: int = 150,
) -> plt.Figure:
    """Horizontal bar chart of areas with an optional dashed target line (CJK labels)."""
    font = matplotlib_font()
    fig, ax = plt.subplots(figsize=(figsize[0], max(figsize[1], 2.2)), dpi=dpi)
    vals = np.asarray(values, dtype=float) * (100 if percent else 1)
    y = np.arange(len(vals))
    ax.barh(y, np.nan_to_num(vals), color=list(colors) if colors else "#1565c0")
    ax.set_yticks(y, [str(n) for n in names], fontsize=8, family=font)
    ax.invert_yaxis()
    if target is not None:
        t = target * (100 if percent else 1)
        ax.axvline(t, color="#c62828", linestyle="--", linewidth=1)
        ax.text(t, -0.6, "目标", color="#c62828", fontsize=7, family=font, ha="center")
    for yy, v in zip(y, vals, strict=True):
        if np.isfinite(v):
            ax.text(
                v,
                yy,
                f" {v:.1f}%" if percent else f" {v:.3g}",
                va="center",
                fontsize=6.5,
                family=font,
            )
    ax.set_title(title, fontsize=10, family=font)
    ax.spines[["top", "right"]].set_visible(False)
    _tight(fig)
    return fig
