"""`handoff import` of 100,000 CSV rows (three activities each) into SQLite, and into
PostgreSQL when $HANDOFF_TEST_POSTGRES_URL is set (a fresh schema).

Run as a separate process and timed end to end, start-up and migrations included.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.bench_intake_http import lead
from tests.bench.common import Result, bench_databases
from tests.helpers import RULES_TOML, TEAM_TOML

IMPORT_ROWS = 100_000
HANDOFF = Path(sys.executable).parent / "handoff"


def _write_import_files(folder: Path) -> None:
    rng = random.Random(5)
    lines = ["external_id,email,employees,country,plan"]
    acts = ["lead_id,kind,occurred_at,id"]
    for i in range(IMPORT_ROWS):
        row = lead(i, rng)
        lines.append(f"L{i},{row['email']},{row['employees']},{row['country']},pro")
        acts.extend(f"L{i},{a['kind']},{a['occurred_at']},{a['id']}" for a in row["activities"])
    (folder / "leads.csv").write_text("\n".join(lines) + "\n")
    (folder / "activities.csv").write_text("\n".join(acts) + "\n")


def _import(label: str, database_url: str, folder: Path) -> Result:
    env = {**os.environ, "DATABASE_URL": database_url}
    start = time.perf_counter()
    done = subprocess.run(
        [HANDOFF, "import", "leads.csv", "--activities", "activities.csv"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"handoff import failed: {done.stderr[-2000:]}")
    return Result(
        f"handoff import, {label}: 100,000 rows (3 activities each)",
        IMPORT_ROWS / elapsed,
        "rows/s",
        10_000,
        details={
            "rows": IMPORT_ROWS,
            "seconds": round(elapsed, 1),
            "summary": done.stderr.strip().splitlines()[-1],
        },
    )


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp, bench_databases(Path(tmp), "import") as found:
        folder = Path(tmp)
        (folder / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
        _write_import_files(folder)
        return [_import(label, url, folder) for label, url in found]
