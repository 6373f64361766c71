"""A non-editable install carries its templates, static files and rubrics, and serves the demo."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import venv
import zipfile
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.helpers import REPO


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from this checkout."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return next(out.glob("case_audit-*.whl"))


def test_wheel_carries_templates_static_files_and_rubrics(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "audit/templates/base.html" in names
    assert "audit/templates/scoring/audit.html" in names
    assert "audit/rubrics/peer-safeguarding-health-check.yaml" in names
    assert {"audit/rubric/__init__.py", "audit/rubric/checks/scale.py"} <= names
    assert "audit/static/css/case-audit.css" in names
    assert "audit/static/js/app.js" in names
    assert not any(name.startswith("audit/static/src/") for name in names)
    assert not any("node_modules" in name for name in names)


def test_installed_copy_serves_the_demo(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    target = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    # Install the wheel alone into the fresh venv; dependencies come from this test run's
    # site-packages on PYTHONPATH (where .pth files, such as the editable install's, are not
    # processed, so only the installed copy of `audit` can be imported).
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    env.pop("CASE_AUDIT_INSTANCE", None)
    where = subprocess.check_output(
        [
            str(python),
            "-c",
            "import audit, audit.paths as p; print(audit.__file__);"
            "print(p.TEMPLATES_DIR); print(p.RUBRICS_DIR)",
        ],
        text=True,
        env=env,
        cwd=tmp_path,
    ).split()
    assert all(str(target) in line for line in where), where
    port = _free_port()
    instance = tmp_path / "instance"
    server = subprocess.Popen(
        [
            str(python),
            "-m",
            "audit",
            "serve",
            "--demo",
            "--port",
            str(port),
            "--instance",
            str(instance),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/sign-in", timeout=2) as response:
                    sign_in = response.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    server.kill()
                    pytest.fail("server did not start:\n" + (server.stdout.read() or ""))
                time.sleep(0.2)
        with urllib.request.urlopen(base + "/static/css/case-audit.css", timeout=5) as css:
            assert css.status == 200
        password = next(
            line.split("\t")[1]
            for line in (instance / "demo-credentials.txt").read_text().splitlines()
            if line.startswith("lead\t")
        )
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        page = opener.open(base + "/sign-in", timeout=5).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        data = urlencode({"username": "lead", "password": password, "csrf_token": token})
        reviews_page = opener.open(base + "/sign-in", data=data.encode(), timeout=5).read()
        assert b"Example Borough peer safeguarding health check" in reviews_page
        assert "Sign in" in sign_in
    finally:
        server.terminate()
        try:
            output, _ = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    assert str(instance.resolve()) in output  # the instance path is printed at start
