"""The CLI's pod-create trace for seed 1, compared with tests/sim/golden/pod-create-seed1.jsonl.
Regenerate with `pytest tests/sim --rewrite-golden`, and only commit the new file if you understand
every line of the diff."""
import difflib
import subprocess
import sys
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden" / "pod-create-seed1.jsonl"
ROOT = Path(__file__).resolve().parents[2]


def test_cli_trace_matches_golden(rewrite_golden):
    out = subprocess.run([sys.executable, "-m", "simulator", "run", "pod-create", "--seed", "1", "--speed", "max"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    if rewrite_golden or not GOLDEN.exists():
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(out, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8")
    if out != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), out.splitlines(True), "golden", "now", n=0))
        raise AssertionError("trace differs from the golden file (pytest tests/sim --rewrite-golden to accept):\n"
                             + diff[:4000])
