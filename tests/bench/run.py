"""Runs every benchmark in tests/bench/bench_*.py, prints a table, writes a JSON report.

Each benchmark module has `run() -> list[Result]`. Numbers are measured, never asserted:
these machines are shared and noisy, so `make bench` reports and `make test` checks
behaviour only. A result below its target is flagged in the table and the report.

    python tests/bench/run.py [--report bench-report.json] [--only NAME]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tests.bench.common import Result  # noqa: E402


def _load(path: Path) -> object:
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, default=Path("bench-report.json"))
    parser.add_argument("--only", help="run only benchmark files whose name contains this")
    args = parser.parse_args()
    results: list[Result] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if args.only and args.only not in path.stem:
            continue
        print(f"running {path.name} …", file=sys.stderr, flush=True)
        results.extend(_load(path).run())  # type: ignore[attr-defined]
    print(_table(results))
    report = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.machine(),
        },
        "results": [result.to_dict() for result in results],
    }
    args.report.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.report}")
    return 0


def _table(results: list[Result]) -> str:
    rows = [("benchmark", "value", "unit", "target", "")]
    for r in results:
        target = "" if r.target is None else f"{'>=' if r.higher_is_better else '<='} {r.target:,g}"
        rows.append((r.name, f"{r.value:,.1f}", r.unit, target, r.verdict()))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i in (0, 2, 3) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    )


if __name__ == "__main__":
    sys.exit(main())
