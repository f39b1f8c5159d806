"""Make kb's map of its countries from Natural Earth boundaries (public domain), as SVG path data.

Input: countries-50m.json (or -110m) from the npm package world-atlas (TopoJSON of Natural Earth's
Admin 0 countries). Output: kb/web/map_shapes.json: a viewBox, the outline of each country of the taxonomy
(keyed by its name) and, drawn grey behind them, the other countries in view. Equirectangular projection
centred on the region (x scaled by cos 24°), Douglas-Peucker simplification, integer coordinates.

    npm pack world-atlas@2 && tar xzf world-atlas-2.*.tgz
    python tools/make_map.py package/countries-50m.json content/taxonomy.yml kb/web/map_shapes.json
"""
from __future__ import annotations

import json
import math
import sys

import yaml

NAMES = {"Sudan": ("Sudan",), "Egypt": ("Egypt",)}  # Natural Earth name -> taxonomy name, where they differ
WIDTH = 1000
LAT0 = math.radians(24)
BOX = (-18.5, 2.0, 72.0, 39.5)  # lon min, lat min, lon max, lat max: Morocco to Afghanistan, Nigeria to Lebanon
TOLERANCE = 1.1  # in output units (the map is WIDTH wide)
CONTEXT_TOLERANCE = 4  # the grey neighbours, drawn only to place the countries: coarser


def decode_arcs(topo: dict) -> list[list[tuple[float, float]]]:
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(arcs, indexes) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for i in indexes:
        points = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        out.extend(points if not out else points[1:])
    return out


def project(lon: float, lat: float) -> tuple[float, float]:
    lo0, la0, lo1, la1 = BOX
    k = WIDTH / ((lo1 - lo0) * math.cos(LAT0))
    return (lon - lo0) * math.cos(LAT0) * k, (la1 - lat) * k


def simplify(points, tol):
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        (x1, y1), (x2, y2) = points[a], points[b]
        dx, dy = x2 - x1, y2 - y1
        norm = math.hypot(dx, dy) or 1e-9
        best, index = 0.0, -1
        for i in range(a + 1, b):
            x, y = points[i]
            d = abs(dy * (x - x1) - dx * (y - y1)) / norm if (dx or dy) else math.hypot(x - x1, y - y1)
            if d > best:
                best, index = d, i
        if best > tol and index > 0:
            keep[index] = True
            stack += [(a, index), (index, b)]
    return [p for p, k in zip(points, keep) if k]


def path(polygons, tol: float = TOLERANCE) -> str:
    parts = []
    for rings in polygons:
        for r in rings:
            pts = simplify([project(*p) for p in r], tol)
            pts = [(round(x), round(y)) for x, y in pts]
            pts = [p for i, p in enumerate(pts) if i == 0 or p != pts[i - 1]]
            if len(pts) < 4 or (tol > TOLERANCE and len(pts) < 6):
                continue
            parts.append("M" + "l".join([f"{pts[0][0]} {pts[0][1]}"] +
                                        [f"{b[0] - a[0]} {b[1] - a[1]}" for a, b in zip(pts, pts[1:])]) + "z")
    return "".join(parts)


def main(topo_path: str, taxonomy_path: str, out_path: str) -> None:
    with open(topo_path, encoding="utf-8") as f:
        topo = json.load(f)
    with open(taxonomy_path, encoding="utf-8") as f:
        wanted = {c["name"] for r in yaml.safe_load(f)["regions"] for c in r["countries"]}
    arcs = decode_arcs(topo)
    lo0, la0, lo1, la1 = BOX
    ours, others = {}, []
    for geo in topo["objects"]["countries"]["geometries"]:
        name = geo.get("properties", {}).get("name", "")
        if geo["type"] == "Polygon":
            polygons = [[ring(arcs, r) for r in geo["arcs"]]]
        elif geo["type"] == "MultiPolygon":
            polygons = [[ring(arcs, r) for r in poly] for poly in geo["arcs"]]
        else:
            continue
        points = [p for poly in polygons for r in poly for p in r]
        if not any(lo0 - 5 <= x <= lo1 + 5 and la0 - 5 <= y <= la1 + 5 for x, y in points):
            continue
        if name in wanted:
            ours[name] = path(polygons)
        else:
            others.append(path(polygons, CONTEXT_TOLERANCE))
    missing = wanted - set(ours)
    if missing:
        raise SystemExit(f"not found in {topo_path}: {sorted(missing)}")
    height = round(project(lo0, la0)[1])
    data = {"source": "Natural Earth (public domain) via world-atlas, countries-50m", "viewBox": f"0 0 {WIDTH} {height}",
            "countries": dict(sorted(ours.items())), "context": "".join(p for p in others if p)}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:4])
