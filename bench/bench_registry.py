"""Figures of issue 9 (one record per layer and facility kind).

Prints which files name the elderly-care kind (what adding it touched), the line counts of the
biggest Python files at a base commit and now, the files of the one analysis object (the
Service-gaps page's own orchestration, ``ui/gaps/compute.py``, went into ``geo/analysis.py``),
and the longest parameter list of a function in ``maps/`` (the renderer takes style records).

    .venv/bin/python bench/bench_registry.py [--base COMMIT]
"""

from __future__ import annotations

import argparse
import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = "fd5f36c"  # main before the kind records (issue 9 started here)


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def lines_at(rev: str | None, path: str) -> int | None:
    try:
        text = git("show", f"{rev}:{path}") if rev else (ROOT / path).read_text(encoding="utf-8")
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    return len(text.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=BASE)
    args = parser.parse_args()

    hits = git(
        "grep",
        "-l",
        "elderly_care",
        "--",
        ".",
        ":!tests",
        ":!README.md",
        ":!bench/bench_registry.py",
    ).split()
    print(f"files naming elderly_care outside tests and README: {len(hits)}")
    for path in hits:
        found = git("grep", "-n", "elderly_care", "--", path).splitlines()
        print(f"  {path}: {len(found)} line(s)")
        for line in found[:3]:
            print(f"      {line.split(':', 2)[1]}: {line.split(':', 2)[2].strip()[:90]}")

    def biggest(rev: str | None) -> list[str]:
        names = git("ls-tree", "-r", "--name-only", rev or "HEAD").split()
        py = [n for n in names if n.endswith(".py") and not n.startswith("tests/")]
        return sorted(py, key=lambda n: -(lines_at(rev, n) or 0))[:12]

    moved = {"layers/render.py": "maps/render.py", "layers/display.py": "maps/display.py"}
    print(f"\nbiggest files (lines), {args.base} -> now")
    print(f"  {'file':32s} {'before':>7s} {'after':>7s}")
    for path in dict.fromkeys([*biggest(args.base), *biggest(None)]):
        before = lines_at(args.base, path)
        now_path = moved.get(path, path)
        after = lines_at(None, now_path)
        shown = path if now_path == path else f"{path} -> {now_path}"
        print(
            f"  {shown:32s} {before if before is not None else '-':>7} "
            f"{after if after is not None else '-':>7}"
        )

    print(f"\nthe one analysis object, {args.base} -> now")
    for path in ("geo/analysis.py", "ui/gaps/compute.py", "geo/capacity.py", "maps/render.py"):
        print(
            f"  {path:32s} {lines_at(args.base, path) or '-':>7} {lines_at(None, path) or '-':>7}"
        )

    widest: list[tuple[int, str]] = []
    for path in sorted((ROOT / "maps").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                a = node.args
                count = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs)
                widest.append((count, f"{path.relative_to(ROOT)}:{node.name}"))
    widest.sort(reverse=True)
    print("\nlongest parameter lists in maps/ (parameters, function):")
    for count, name in widest[:3]:
        print(f"  {count:3d}  {name}")


if __name__ == "__main__":
    main()
