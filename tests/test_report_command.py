"""``case-audit report`` opens the instance without Flask and renders what the web app renders."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from audit import create_app, create_render_app, demo
from audit.data import reviews
from audit.data.db import connect
from audit.instance import RenderApp
from audit.reporting import report
from tests.helpers import REPO


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance holding the demo review."""
    instance = tmp_path_factory.mktemp("report-command") / "instance"
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True})
    db = connect(app.config["DATABASE"])
    demo.seed(db, app.extensions["rubric_library"], instance)
    db.conn.close()
    return instance


@pytest.mark.parametrize("audience", ["internal", "public"])
@pytest.mark.parametrize("standalone", [False, True])
def test_render_app_builds_the_same_report_html_as_the_web_app(
    seeded: Path, audience: str, standalone: bool
) -> None:
    web = create_app({"INSTANCE_PATH": seeded, "TESTING": True})
    light = create_render_app({"INSTANCE_PATH": seeded})
    assert isinstance(light, RenderApp)
    db = connect(web.config["DATABASE"])
    review = reviews.find(db, demo.DEMO_TITLE)
    # The report stamps the second it was made; two builds may straddle a second.
    built = [
        re.sub(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00",
            "(made)",
            report.build_html(app, db, review, audience=audience, standalone=standalone),
        )
        for app in (web, light)
    ]
    assert built[0] == built[1] and demo.DEMO_TITLE in built[0]
    assert report.pdf_author(web, db, review) == report.pdf_author(light, db, review)
    db.conn.close()


def test_render_app_escapes_what_people_typed(seeded: Path) -> None:
    light = create_render_app({"INSTANCE_PATH": seeded})
    template = light.jinja_env.from_string("{{ typed }}")
    assert template.render(typed="<script>") == "&lt;script&gt;"


def test_report_command_does_not_import_flask_and_writes_the_pdf(
    seeded: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.pdf"
    script = (
        "import json, sys\n"
        "from audit.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit as done:\n"
        "    code = done.code\n"
        "print(json.dumps({'code': code, 'flask': 'flask' in sys.modules,"
        " 'wtforms': 'wtforms' in sys.modules}))\n"
    )
    argv = ["--instance", str(seeded), "report", demo.DEMO_TITLE, "-o", str(out)]
    done = subprocess.run(
        [sys.executable, "-c", script, *argv], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome == {"code": 0, "flask": False, "wtforms": False}
    assert out.read_bytes().startswith(b"%PDF-") and f"Wrote {out}" in done.stdout
