"""One record per layer and facility kind: the demo numbers stay, a new kind needs no code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _gaps_json(store: Path, capsys, *extra: str) -> dict:
    import cli

    assert cli.main(["gaps", "--data", str(store), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_demo_gaps_json_is_unchanged_for_the_existing_kinds(demo_store_path, capsys):
    """``gaps --json`` on the demo matches the output recorded before the kind records."""
    baseline = json.loads((FIXTURES / "gaps_demo_baseline.json").read_text(encoding="utf-8"))
    now = _gaps_json(demo_store_path, capsys)
    for section in ("metric_crs", "population", "sanitation", "grid_checks", "capacity"):
        assert now[section] == baseline[section], section
    for kind, expected in baseline["coverage"].items():
        assert now["coverage"][kind] == expected, kind
    for kind, expected in baseline["gap_cells"].items():
        assert now["gap_cells"][kind] == expected, kind
    for section in ("per_capita_area_m2", "grids"):
        assert now["parameters"][section] == baseline["parameters"][section]
    for name, value in baseline["parameters"]["radii"].items():
        assert now["parameters"]["radii"][name] == pytest.approx(value), name
    for name, value in baseline["parameters"]["targets"].items():
        assert now["parameters"]["targets"][name] == pytest.approx(value), name
