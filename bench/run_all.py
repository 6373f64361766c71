"""Run every benchmark in turn, each in its own process, then summarise PASS/FAIL.

Run: .venv/bin/python bench/run_all.py   (or `make bench`)

Exits 0 whatever the figures are; exits 1 only if a benchmark script crashed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Each entry is a script, or a script with its arguments (load.py runs 20 s here, not 60).
SCRIPTS: list[str | list[str]] = [
    "startup.py",
    "scoring_page.py",
    "draft_save.py",
    "aggregation.py",
    "report.py",
    ["load.py", "--seconds", "20"],
    "hostile.py",
    ["scale.py", "--sizes", "1000,10000"],  # the full curve (to 100,000) is run by hand
]


def main() -> int:
    results: list[str] = []
    crashed: list[str] = []
    for entry in SCRIPTS:
        script, *args = [entry] if isinstance(entry, str) else entry
        name = " ".join([script, *args])
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, str(HERE / script), *args],
            cwd=HERE.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            if line.startswith("RESULT "):
                results.append(f"{name}: {line[len('RESULT ') :].rstrip()}")
        proc.wait()
        print(f"   ({name} took {time.perf_counter() - started:.0f} s, exit {proc.returncode})\n")
        if proc.returncode != 0:
            crashed.append(name)
    print("== summary")
    for line in results:
        print(f"   {line}")
    for name in crashed:
        print(f"   {name}: CRASHED (see its output above)")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
