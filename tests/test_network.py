"""Walking graph, snapping and network distances (geo/network.py) on networks solvable by hand."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point

from geo.network import (
    NetworkError,
    WalkGraph,
    graph_from_roads,
    network_nearest,
    off_network,
    overstated,
    point_components,
    service_area,
    walking_graph,
)

CRS = "EPSG:4546"
X0, Y0 = 500_000.0, 3_600_000.0  # somewhere inside EPSG:4546's zone


def roads(*lines, bridge=None, tunnel=None, walkable=None) -> gpd.GeoDataFrame:
    geoms = [LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines]
    data = {"road_id": [f"r{i}" for i in range(len(lines))]}
    if bridge is not None:
        data["bridge"] = bridge
    if tunnel is not None:
        data["tunnel"] = tunnel
    if walkable is not None:
        data["walkable"] = walkable
    return gpd.GeoDataFrame(data, geometry=geoms, crs=CRS)


def points(*xy) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[Point(X0 + x, Y0 + y) for x, y in xy], crs=CRS)


def walk(graph, people, facilities, **kw) -> np.ndarray:
    kw.setdefault("max_snap_m", 300)
    return network_nearest(graph, people, facilities, **kw)[0].to_numpy()


def test_river_with_one_bridge():
    # south bank road y=0, north bank road y=100, one bridge at x=500 (crossing both banks'
    # roads would need the bridge to meet them: it ends on them, so they are split there)
    net = roads(
        [(-100, 0), (1000, 0)],
        [(-100, 100), (1000, 100)],
        [(500, 0), (500, 100)],
        bridge=[False, False, True],
    )
    graph = graph_from_roads(net)
    people = points((0, -10), (600, -20))
    shelter = points((0, 110))
    # 10 snap + 500 along the south bank + 100 bridge + 500 back + 10 snap
    assert walk(graph, people, shelter) == pytest.approx([1120, 20 + 100 + 100 + 500 + 10])
    assert graph.summary()["components"] == 1


def test_dead_end_is_walked_back():
    net = roads([(-100, 0), (200, 0)], [(0, 0), (0, 500)], [(100, 0), (100, 500)])
    graph = graph_from_roads(net)
    dist = walk(graph, points((0, 500)), points((100, 500)))
    assert dist == pytest.approx([1100])  # 100 m apart, 1.1 km on foot
    covered = walk(graph, points((0, 500)), points((100, 500)), limit=500)
    assert np.isinf(covered).all()


def test_point_beyond_snap_limit_is_off_network():
    net = roads([(0, 0), (1000, 0)])
    graph = graph_from_roads(net)
    people = points((10, 299), (10, 301))
    dist = walk(graph, people, points((0, 0)))
    assert dist[0] == pytest.approx(299 + 10)
    assert np.isinf(dist[1])
    assert off_network(graph, people, max_snap_m=300).tolist() == [False, True]
    assert point_components(graph, people, max_snap_m=300).tolist() == [0, -1]


def test_tunnel_crosses_road_without_meeting_it():
    lines = (
        [(-500, 0), (500, 0)],  # road
        [(0, -500), (0, 500)],  # tunnel under it
        [(0, 500), (500, 500), (500, 0)],  # the only link between them
    )
    person, toilet = points((0, -500)), points((500, 0))
    tunnel = graph_from_roads(roads(*lines, tunnel=[False, True, False]))
    assert walk(tunnel, person, toilet, limit=2000) == pytest.approx([1000 + 500 + 500])
    plain = graph_from_roads(roads(*lines, tunnel=[False, False, False]))
    assert walk(plain, person, toilet) == pytest.approx([1000])


def test_osm_lines_meet_only_at_shared_vertices():
    net = roads([(-500, 0), (500, 0)], [(0, -500), (0, 500)])
    assert graph_from_roads(net, osm=True).summary()["components"] == 2
    assert graph_from_roads(net).summary()["components"] == 1


def test_unwalkable_roads_are_left_out():
    net = roads([(0, 0), (100, 0)], [(100, 0), (200, 0)], walkable=["yes", "no"])
    graph = graph_from_roads(net)
    assert graph.summary()["length_km"] == pytest.approx(0.1)


def test_snap_to_segment_not_node_and_same_segment_walk():
    graph = graph_from_roads(roads([(0, 0), (1000, 0)]))
    # resident and facility on the same long segment: walk straight along it
    assert walk(graph, points((400, 5)), points((450, -5))) == pytest.approx([60])
    # several facilities on one segment: the nearest wins, on either side
    fac = points((100, 0), (700, 0), (900, 0))
    dist, pos = network_nearest(graph, points((650, 0), (850, 1)), fac, max_snap_m=10)
    assert dist.tolist() == pytest.approx([50, 51])
    assert pos.tolist() == [1, 2]


def test_polygon_facility_reached_at_nearest_road_point_of_its_edge():
    graph = graph_from_roads(roads([(0, 0), (1000, 0)]))
    diamond = [(550, 20), (600, 70), (550, 120), (500, 70)]
    park = gpd.GeoDataFrame(
        geometry=[shapely.Polygon([(X0 + x, Y0 + y) for x, y in diamond])], crs=CRS
    )
    people = points((0, 0), (550, 70), (550, 5000))
    dist = walk(graph, people, park)
    assert dist[0] == pytest.approx(550 + 20)  # along the road, then 20 m to the park's corner
    assert dist[1] == 0  # inside the park
    assert np.isinf(dist[2])


def test_components_and_errors():
    graph = graph_from_roads(roads([(0, 0), (100, 0)], [(0, 500), (300, 500)]))
    assert graph.summary()["components"] == 2
    # the component with the longer road length is number 0
    comp = point_components(graph, points((50, 1), (50, 499)), max_snap_m=10)
    assert comp.tolist() == [1, 0]
    assert np.isinf(walk(graph, points((50, 1)), points((50, 499))))
    with pytest.raises(NetworkError, match="roads"):
        graph_from_roads(roads().iloc[:0])


def _nx_distances(graph: WalkGraph, sources, targets) -> np.ndarray:
    """Reference: networkx on the same roads with every snapped point inserted as a node."""
    g = nx.Graph()
    inserted: dict[int, list[tuple[float, object]]] = {}
    for kind, snap in (("s", sources), ("t", targets)):
        for i in range(len(snap)):
            if snap.segment[i] >= 0:
                inserted.setdefault(int(snap.segment[i]), []).append((snap.offset[i], (kind, i)))
                g.add_edge((kind, i, "leg"), (kind, i), weight=snap.distance[i])
    for e in range(graph.n_edges):
        chain = [(0.0, int(graph.u[e]))]
        chain += sorted(inserted.get(e, []), key=lambda p: p[0])
        chain.append((graph.length[e], int(graph.v[e])))
        for (ta, a), (tb, b) in zip(chain[:-1], chain[1:], strict=True):
            w = tb - ta
            if not g.has_edge(a, b) or g[a][b]["weight"] > w:
                g.add_edge(a, b, weight=w)
    starts = [("s", i, "leg") for i in range(len(sources)) if sources.segment[i] >= 0]
    if not starts:
        return np.full(len(targets), np.inf)
    lengths = nx.multi_source_dijkstra_path_length(g, starts, weight="weight")
    return np.array([lengths.get(("t", i, "leg"), np.inf) for i in range(len(targets))])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_network_distances_equal_networkx_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 2000, size=(60, 2))
    pairs = {(i, j) for i in range(60) for j in np.argsort(np.hypot(*(xy - xy[i]).T))[1:4]}
    lines = [LineString([xy[i], xy[j]]) for i, j in pairs]
    net = gpd.GeoDataFrame(geometry=lines, crs=CRS)
    graph = WalkGraph.from_roads(net, split_crossings=seed % 2 == 0)
    fac = rng.uniform(0, 2000, size=(8, 2))
    people = rng.uniform(0, 2000, size=(300, 2))
    s = graph.snap(shapely.points(fac), max_snap_m=150)
    t = graph.snap(shapely.points(people), max_snap_m=150)
    dist, which = graph.nearest(s, t)
    expected = _nx_distances(graph, s, t)
    assert np.isfinite(expected).sum() > 100
    np.testing.assert_allclose(dist, expected, rtol=1e-9, atol=1e-6)
    # the reported facility is one at that distance
    own = np.flatnonzero(which >= 0)
    single = [
        graph.nearest(
            type(s)(s.segment[[w]], s.offset[[w]], s.distance[[w]]),
            type(t)(t.segment[[i]], t.offset[[i]], t.distance[[i]]),
        )[0][0]
        for i, w in zip(own[:20], which[own[:20]], strict=True)
    ]
    np.testing.assert_allclose(single, dist[own[:20]], rtol=1e-9)
    # pairs within a radius agree with per-pair distances
    radius = 600.0
    ti, si, d = graph.pairs_within(s, t, radius=radius)
    assert (d <= radius + 1e-6).all()
    got = {(int(a), int(b)) for a, b in zip(ti, si, strict=True)}
    for j in range(len(fac)):
        one = type(s)(s.segment[[j]], s.offset[[j]], s.distance[[j]])
        dj = _nx_distances(graph, one, t)
        want = {(int(i), j) for i in np.flatnonzero(dj <= radius)}
        assert want == {p for p in got if p[1] == j}


def test_service_area_is_the_reached_road_buffered():
    graph = graph_from_roads(roads([(0, 0), (1000, 0)], [(500, 0), (500, 800)]))
    fac = points((0, 0), (500, 800))
    one = service_area(graph, fac, radius_m=300, max_snap_m=50, buffer_m=10)
    assert len(one) == 1
    minx, miny, maxx, maxy = one.geometry.iloc[0].bounds
    assert (minx - X0, maxx - X0) == pytest.approx((-10, 510), abs=0.01)
    each = service_area(graph, fac, radius_m=300, max_snap_m=50, buffer_m=10, each=True)
    assert each.index.tolist() == [0, 1]
    ax = each.geometry.iloc[0].bounds
    assert (ax[0] - X0, ax[2] - X0) == pytest.approx((-10, 310), abs=0.01)
    bx = each.geometry.iloc[1].bounds
    assert (bx[1] - Y0, bx[3] - Y0) == pytest.approx((500 - 10, 810), abs=0.01)
    # whole area = union of the single ones
    assert one.geometry.iloc[0].area == pytest.approx(shapely.union_all(each.geometry).area)


def test_missing_roads_layer_is_named():
    with pytest.raises(NetworkError, match="'roads' layer"):
        graph_from_roads(None)


def test_walking_graph_is_cached_per_roads():
    net = roads([(0, 0), (100, 0)])
    assert walking_graph(net) is walking_graph(net.copy())
    other = roads([(0, 0), (200, 0)])
    assert walking_graph(other) is not walking_graph(net)


def test_overstated_per_area():
    # across the river from a shelter: 1120 m walk for a point 120 m away
    net = roads(
        [(-100, 0), (1000, 0)],
        [(-100, 100), (1000, 100)],
        [(500, 0), (500, 100)],
        bridge=[False, False, True],
    )
    graph = graph_from_roads(net)
    people = points((0, -10), (600, -10), (0, 120), (900, -10))
    people["residents"] = [100, 200, 300, 400]
    people["street_code"] = ["S1", "S1", "S2", "S2"]
    shelter = points((0, 110))
    walk_m = walk(graph, people, shelter)
    straight = people.distance(shelter.geometry.iloc[0]) <= 500
    network = pd.Series(walk_m <= 500, index=people.index)
    table = overstated(people, straight, network, by="street_code")
    assert table.loc["S1"].to_dict() == {
        "residents_total": 300,
        "covered_straight": 100,
        "covered_network": 0,
        "overstated": 100,
        "share_overstated": pytest.approx(1 / 3),
    }
    assert table.loc["S2", "overstated"] == 0
    assert table.index[0] == "S1"


def test_point_snapping_equals_geos_nearest():
    rng = np.random.default_rng(7)
    a = rng.uniform(0, 3000, (400, 2))
    b = a + rng.normal(0, 300, (400, 2))
    lines = shapely.linestrings(np.stack([a + [X0, Y0], b + [X0, Y0]], axis=1))
    graph = WalkGraph.from_roads(gpd.GeoDataFrame(geometry=lines, crs=CRS), split_crossings=False)
    pts = shapely.points(rng.uniform(-500, 3500, (3000, 2)) + [X0, Y0])
    snap = graph.snap(pts, max_snap_m=250)
    (src, dst), d = graph.tree.query_nearest(pts, return_distance=True, all_matches=False)
    expected = np.full(len(pts), np.inf)
    expected[src] = np.where(d <= 250, d, np.inf)
    np.testing.assert_allclose(snap.distance, expected, atol=1e-6)
    on = snap.on_network
    at = shapely.line_interpolate_point(graph.segments[snap.segment[on]], snap.offset[on])
    np.testing.assert_allclose(shapely.distance(at, pts[on]), snap.distance[on], atol=1e-6)


def test_network_findings_off_roads_islands_and_unreached_facilities():
    """Two road networks: a main one (a 2,000 m road and a 300 m spur, 2.3 km) and an island
    road 200 m long at x 3000-3200. Residents: 5 beside the main road, 7 beside the island road,
    11 at 1,000 m from any road (beyond the 300 m snap limit). Shelters: one beside the main
    road, one 1 km from any road."""
    from geo.network import network_findings

    roads = gpd.GeoDataFrame(
        {"road_id": ["M", "S", "I"]},
        geometry=[
            LineString([(X0, Y0), (X0 + 2000, Y0)]),
            LineString([(X0 + 1000, Y0), (X0 + 1000, Y0 - 300)]),
            LineString([(X0 + 3000, Y0), (X0 + 3200, Y0)]),
        ],
        crs=CRS,
    )
    population = gpd.GeoDataFrame(
        {"residents": [5, 7, 11]},
        geometry=[Point(X0 + 100, Y0 + 10), Point(X0 + 3100, Y0 + 5), Point(X0 + 500, Y0 + 1000)],
        crs=CRS,
    )
    shelters = gpd.GeoDataFrame(
        {"shelter_id": ["near", "far"]},
        geometry=[Point(X0 + 50, Y0 + 20), Point(X0 + 1500, Y0 + 1000)],
        crs=CRS,
    )
    found = network_findings(
        WalkGraph.from_roads(roads), population, {"shelters": shelters}, max_snap_m=300.0
    )
    assert found["graph"]["components"] == 2 and found["graph"]["length_km"] == 2.5
    assert (found["points_off_network"], found["residents_off_network"]) == (1, 11)
    assert (found["residents_on_islands"], found["islands_with_residents"]) == (7, 1)
    assert found["facilities_off_network"] == {"shelters": 1}
    assert found["max_snap_m"] == 300.0
