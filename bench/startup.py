"""Startup and light-page figures.

Targets (from the issue):
- "case-audit serve answers its first request within 3 seconds of starting (excluding install)"
- "CLI commands that don't render PDFs start in under a second"
- "Sign-in and review-list pages render in under 20 ms of server time"

Run: .venv/bin/python bench/startup.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from common import (
    REPO,
    connect_db,
    free_port,
    header,
    make_app,
    median,
    ms,
    p95,
    repeat,
    result,
    secs,
    seed_demo,
    sign_in,
    table,
    temp_instance,
)

SERVE_REPEATS = 3
SERVE_TARGET_S = 3.0
CLI_REPEATS = 5
CLI_TARGET_S = 1.0
PAGE_REPEATS = 200
PAGE_WARMUP = 20
PAGE_TARGET_S = 0.020
HEAVY_MODULES = ("weasyprint", "openpyxl", "waitress", "yaml")


# Where subprocesses keep their .pyc files. An install compiles bytecode, so the targets are
# judged with a warm cache; the cache lives in a temp folder (PYTHONPYCACHEPREFIX) so nothing
# is written into the source tree. Set to None to measure with bytecode caching switched off.
_PYC: dict[str, Path | None] = {"prefix": None}


def _env(pyc: bool = True) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CASE_AUDIT_INSTANCE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if pyc and _PYC["prefix"] is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(_PYC["prefix"])
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _first_200(instance: Path, timeout: float = 30.0, pyc: bool = True) -> float:
    """Start `python -m audit serve` and return seconds until GET /sign-in answers 200."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/sign-in"
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "audit", "serve", "--port", str(port), "--instance", str(instance)],
        cwd=REPO,
        env=_env(pyc),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        while True:
            elapsed = time.perf_counter() - start
            if proc.poll() is not None:
                stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"serve exited with {proc.returncode}: {stderr[-2000:]}")
            if elapsed > timeout:
                raise RuntimeError(f"serve gave no 200 within {timeout} s")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.01)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def _init_instance(instance: Path) -> None:
    """Create the database and seed the demo, as `case-audit demo` does, in a subprocess."""
    subprocess.run(
        [sys.executable, "-m", "audit", "demo", "--instance", str(instance)],
        cwd=REPO,
        env=_env(),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def bench_serve() -> bool:
    """Seconds from process start to the first 200, on fresh and on initialised instances."""
    fresh, ready, cold = [], [], []
    for _ in range(SERVE_REPEATS):
        with temp_instance() as instance:
            fresh.append(_first_200(instance))
    with temp_instance() as instance:
        _init_instance(instance)
        ready = [_first_200(instance) for _ in range(SERVE_REPEATS)]
    for _ in range(SERVE_REPEATS):
        with temp_instance() as instance:
            cold.append(_first_200(instance, pyc=False))

    def runs(values: list[float]) -> str:
        return ", ".join(f"{t:.2f}" for t in values)

    rows = [
        ["fresh instance", secs(median(fresh)), runs(fresh)],
        ["initialised instance (demo seeded)", secs(median(ready)), runs(ready)],
        ["fresh instance, no .pyc (reference)", secs(median(cold)), runs(cold)],
    ]
    print(f"\n-- serve: process start to first 200 from GET /sign-in ({SERVE_REPEATS} runs each)")
    table(rows, ["instance", "median", "runs (s)"])
    worst = max(median(fresh), median(ready))
    passed = worst < SERVE_TARGET_S
    result(
        "serve first request",
        passed,
        f"median fresh {secs(median(fresh))}, initialised {secs(median(ready))}, "
        f"no .pyc {secs(median(cold))} (target < {SERVE_TARGET_S:.0f} s)",
    )
    return passed


def _time_command(args: list[str], pyc: bool = True) -> list[float]:
    times = []
    for _ in range(CLI_REPEATS):
        start = time.perf_counter()
        subprocess.run(
            args,
            cwd=REPO,
            env=_env(pyc),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - start)
    return times


IMPORT_CHECK = """
import json, sys
from audit import cli, create_app
app = create_app({"INSTANCE_PATH": sys.argv[1]})
print(json.dumps({name: name in sys.modules for name in %r}))
"""


def _scrypt_seconds() -> float:
    """Median time of one werkzeug default password hash (scrypt) in this process."""
    from werkzeug.security import generate_password_hash

    return median(repeat(lambda: generate_password_hash("timing"), 3, warmup=1))


def bench_cli() -> bool:
    """Median wall time of CLI commands that do not render PDFs."""
    with temp_instance() as instance:
        _init_instance(instance)
        py = [sys.executable]
        commands = [
            ("python -c pass (interpreter only, reference)", [*py, "-c", "pass"], False),
            ("python -m audit --help", [*py, "-m", "audit", "--help"], True),
            (
                "python -m audit review list",
                [*py, "-m", "audit", "review", "list", "--instance", str(instance)],
                True,
            ),
            (
                "python -m audit rubric list",
                [*py, "-m", "audit", "rubric", "list", "--instance", str(instance)],
                True,
            ),
            (
                "python -m audit user list",
                [*py, "-m", "audit", "user", "list", "--instance", str(instance)],
                True,
            ),
        ]
        rows = []
        worst = worst_cold = 0.0
        for label, args, counted in commands:
            warm = _time_command(args)
            cold = _time_command(args, pyc=False)
            if counted:
                worst = max(worst, median(warm))
                worst_cold = max(worst_cold, median(cold))
            rows.append([label, secs(median(warm)), secs(max(warm)), secs(median(cold))])
        check = subprocess.run(
            [sys.executable, "-c", IMPORT_CHECK % (HEAVY_MODULES,), str(instance)],
            cwd=REPO,
            env=_env(),
            check=True,
            capture_output=True,
            text=True,
        )
    loaded = json.loads(check.stdout.strip().splitlines()[-1])
    print(f"\n-- CLI: wall time from process start to exit (median of {CLI_REPEATS})")
    table(rows, ["command", "median", "max", "median, no .pyc"])
    print("\n   after `from audit import cli, create_app` and create_app():")
    for name in HEAVY_MODULES:
        print(f"   {name!r} in sys.modules: {loaded[name]}")
    print(
        "   one scrypt hash (audit/data/users.py computes _DUMMY_HASH at import, so every "
        f"command pays it): {ms(_scrypt_seconds())}"
    )
    passed = worst < CLI_TARGET_S
    result(
        "CLI start",
        passed,
        f"slowest median {secs(worst)}, no .pyc {secs(worst_cold)} (target < {CLI_TARGET_S:.0f} s)",
    )
    no_weasy = not loaded["weasyprint"]
    result(
        "weasyprint not imported",
        no_weasy,
        f'"weasyprint" not in sys.modules after create_app(): {no_weasy}',
    )
    return passed and no_weasy


def bench_pages() -> bool:
    """Median and p95 of GET /sign-in (anonymous) and GET /reviews (lead), in-process."""
    with temp_instance() as instance:
        app = make_app(instance)
        passwords = seed_demo(app)
        anonymous = app.test_client()
        lead = app.test_client()
        sign_in(lead, "lead", passwords["lead"])

        def get(client, path: str):  # type: ignore[no-untyped-def]
            def call() -> None:
                response = client.get(path)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {path}: {response.status_code}")

            return call

        sign_in_times = repeat(get(anonymous, "/sign-in"), PAGE_REPEATS, PAGE_WARMUP)
        list_times = repeat(get(lead, "/reviews"), PAGE_REPEATS, PAGE_WARMUP)
        db = connect_db(app)
        reviews_listed = db.execute("SELECT count(*) FROM review").fetchone()[0]
        db.conn.close()
    print(
        f"\n-- pages: Flask test client, in-process, {PAGE_REPEATS} requests after "
        f"{PAGE_WARMUP} warm-ups ({reviews_listed} review in the list)"
    )
    rows = [
        ["GET /sign-in (not signed in)", ms(median(sign_in_times)), ms(p95(sign_in_times))],
        ["GET /reviews (lead)", ms(median(list_times)), ms(p95(list_times))],
    ]
    table(rows, ["page", "median", "p95"])
    worst = max(median(sign_in_times), median(list_times))
    passed = worst < PAGE_TARGET_S
    result(
        "sign-in and review-list pages",
        passed,
        f"median sign-in {ms(median(sign_in_times))}, reviews {ms(median(list_times))} "
        f"(target median < {PAGE_TARGET_S * 1000:.0f} ms)",
    )
    return passed


def main() -> int:
    header("startup: serve, CLI, light pages")
    with tempfile.TemporaryDirectory(prefix="case-audit-pyc-") as prefix:
        _PYC["prefix"] = Path(prefix)
        # Untimed: compile the bytecode once, as installing the package would.
        subprocess.run(
            [sys.executable, "-c", IMPORT_CHECK % (HEAVY_MODULES,), str(Path(prefix) / "i")],
            cwd=REPO,
            env=_env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        bench_serve()
        bench_cli()
    bench_pages()
    return 0


if __name__ == "__main__":
    sys.exit(main())
