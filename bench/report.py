"""The whole `make bench` report: the figures of bench/scale.json (the simulator at scale, bench/scale.py),
bench/frames.json (the page's rendering budget, bench/frames.py), bench/live.json (live delivery,
bench/live.py) and bench/kubeapi.json (a class of students at the live cluster, bench/kubeapi.py), each beside its
target, in one table per part; writes them together to bench/results.json.
A part that was not measured (its file is missing) is listed as such, not left out silently.

    .venv/bin/python bench/report.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

PARTS = [  # (key, file, title, module)
    ("scale", "scale.json", "The simulator at scale (issue 3)", "scale"),
    ("frames", "frames.json", "Rendering budget in Chromium (issue 4)", "frames"),
    ("live", "live.json", "Live delivery to viewers (issue 7)", "live"),
    ("kubeapi", "kubeapi.json", "A class at the live cluster (issue 6)", "kubeapi"),
]


def main(argv: list[str] | None = None) -> int:
    import importlib

    combined: dict = {}
    out: list[str] = []
    for key, name, title, module in PARTS:
        path = HERE / name
        out += ["", f"== {title}: bench/{name} =="]
        if not path.exists():
            out.append(f"(not measured: run bench/{module}.py)")
            combined[key] = None
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        combined[key] = data
        out.append(importlib.import_module(module).table(data))
    (HERE / "results.json").write_text(json.dumps(combined, indent=2) + "\n", encoding="utf-8")
    print("\n".join(out))
    print(f"\nwritten: {HERE / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
