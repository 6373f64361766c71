"""The self-evaluation pack of the demo's monthly programme, as PDF and Word, CLI and web."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import docx
import pytest
from click.testing import CliRunner
from docx.oxml.ns import qn

from audit import create_app, demo
from audit.cli import main
from audit.data import actions, programmes
from audit.data.db import connect
from audit.reporting import selfeval
from tests.conftest import Auth
from tests.test_report import flat, pdf_text
from tests.test_report_docx import figures_not_in

YEAR = selfeval.Period.parse("2026-01-01", "2026-12-31")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The demo, seeded once, with its monthly programme."""
    instance = tmp_path_factory.mktemp("pack-demo") / "instance"
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True})
    db = connect(app.config["DATABASE"])
    credentials = demo.seed(db, app.extensions["rubric_library"], instance)
    programme = next(p for p in programmes.all_programmes(db) if p["title"] == demo.PROGRAMME_TITLE)
    yield SimpleNamespace(
        app=app,
        db=db,
        instance=instance,
        programme=programme,
        folder=tmp_path_factory.mktemp("pack-out"),
        passwords={c.username: c.password for c in credentials},
    )
    db.conn.close()


def test_period_names_the_wrong_date() -> None:
    with pytest.raises(selfeval.PackError, match="the from date must be a date"):
        selfeval.Period.parse("1 April", "2026-12-31")
    with pytest.raises(selfeval.PackError, match="the to date must be a date"):
        selfeval.Period.parse("2026-04-01", "2026-13-01")
    with pytest.raises(selfeval.PackError, match="is after the to date"):
        selfeval.Period.parse("2026-12-01", "2026-01-01")


def test_pack_has_the_trend_with_intervals_themes_actions_and_re_audits(
    site: SimpleNamespace,
) -> None:
    context = selfeval.pack_context(site.app, site.db, site.programme["id"], YEAR)
    assert [r.title.rsplit(", ", 1)[1] for r in context["reviews"]] == [
        "August 2026",
        "September 2026",
        "October 2026",
        "November 2026",
    ]
    html = selfeval.build_html(site.app, site.db, site.programme["id"], YEAR)
    assert "95% interval" in html
    assert html.count("<h2") == 6  # contents and the five chapters
    planned = actions.for_programme(site.db, site.programme["id"])
    assert planned and all(a["what"] in html or "&" in a["what"] for a in planned)
    assert context["action_counts"]["overdue"] >= 1  # the demo has an overdue action
    assert any(t["developments"] for t in context["themes"])


def test_period_leaves_out_reviews_started_outside_it(site: SimpleNamespace) -> None:
    autumn = selfeval.Period.parse("2026-09-01", "2026-10-31")
    context = selfeval.pack_context(site.app, site.db, site.programme["id"], autumn)
    assert [r.start_date for r in context["reviews"]] == ["2026-09-01", "2026-10-01"]
    ids = {r.id for r in context["reviews"]}
    assert all(a["review_id"] in ids for a in context["actions"])
    empty = selfeval.Period.parse("2020-01-01", "2020-12-31")
    html = selfeval.build_html(site.app, site.db, site.programme["id"], empty)
    assert "No review of this programme started in the period." in html


def test_word_and_pdf_packs_carry_the_same_trend_figures(site: SimpleNamespace) -> None:
    pid = site.programme["id"]
    document = docx.Document(io.BytesIO(selfeval.build(site.app, site.db, pid, YEAR, "docx")))
    pdf = flat(pdf_text(selfeval.build(site.app, site.db, pid, YEAR, "pdf"), site.folder))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [
        "The reviews",
        "Trends",
        "Themes and areas for development",
        "Actions and what happened to them",
        "Re-audit results",
    ]
    trend = next(t for t in document.tables if t.rows[0].cells[0].text == "Measure")
    assert trend.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    cells = [c.text for row in trend.rows[1:] for c in row.cells[1:]]
    assert any("95% interval" in c for c in cells)
    assert not figures_not_in(cells, pdf)
    assert document.inline_shapes[0]._inline.docPr.get("descr")
    assert document.sections[0].header.paragraphs[0].text.startswith("OFFICIAL")


def test_changes_between_reviews_are_one_table_not_a_list_of_sentences(
    site: SimpleNamespace,
) -> None:
    pid = site.programme["id"]
    context = selfeval.pack_context(site.app, site.db, pid, YEAR)
    changes = context["trend"]["changes"]
    # Columns name each pair of reviews by what their titles do not share.
    assert changes["columns"] == [
        "August 2026 to September 2026",
        "September 2026 to October 2026",
        "October 2026 to November 2026",
    ]
    assert [row["label"] for row in changes["rows"]] == [
        r["label"] for r in context["trend"]["rows"]
    ]
    assert changes["computed"] + changes["not_computed"] == 3 * len(changes["rows"])
    assert changes["not_computed"] >= len(changes["rows"])  # November is still in progress
    document = docx.Document(io.BytesIO(selfeval.build(site.app, site.db, pid, YEAR, "docx")))
    said = " ".join(p.text for p in document.paragraphs)
    # Whether the changes could be noise is said once for all, not after every change.
    assert said.count("chance would explain") == 1 and said.count("could be noise") <= 1
    assert not [p.text for p in document.paragraphs if re.search(r"(up|down) \d+ point", p.text)]
    table = next(
        t
        for t in document.tables
        if t.rows[0].cells[0].text == "Measure" and "to" in t.rows[0].cells[1].text
    )
    cells = [c.text for row in table.rows[1:] for c in row.cells[1:]]
    assert len(cells) == 3 * len(changes["rows"])
    assert all(
        re.fullmatch(
            r"(up|down) \d+ points? \([-+\d.]+ to [-+\d.]+\)(: a real (rise|fall))?"
            r"|no change .*|not computable",
            c,
        )
        for c in cells
    ), cells


def test_short_titles_drop_only_the_words_every_review_shares() -> None:
    assert selfeval.short_titles(["Audit, May 2026", "Audit, June 2026"]) == [
        "May 2026",
        "June 2026",
    ]
    assert selfeval.short_titles(["Spring audit", "Summer audit"]) == [
        "Spring audit",
        "Summer audit",
    ]
    assert selfeval.short_titles(["Audit", "Audit, June"]) == ["Audit", "Audit, June"]
    assert selfeval.short_titles(["Only one"]) == ["Only one"]


def test_cli_writes_the_pack_and_names_bad_input(site: SimpleNamespace, tmp_path: Path) -> None:
    out = tmp_path / "pack.docx"
    base = ["pack", "--instance", str(site.instance), demo.PROGRAMME_TITLE]
    ok = CliRunner().invoke(
        main, [*base, "--from", "2026-08-01", "--to", "2026-12-31", "-o", str(out)]
    )
    assert ok.exit_code == 0, ok.output
    assert docx.Document(str(out)).core_properties.title.startswith(demo.PROGRAMME_TITLE)
    bad = CliRunner().invoke(
        main, [*base, "--from", "August", "--to", "2026-12-31", "-o", str(out)]
    )
    assert bad.exit_code != 0 and "the from date" in bad.output
    other = CliRunner().invoke(
        main,
        [
            "pack",
            "--instance",
            str(site.instance),
            "Nope",
            "--from",
            "2026-01-01",
            "--to",
            "2026-02-01",
            "-o",
            str(tmp_path / "x.pdf"),
        ],
    )
    assert other.exit_code != 0 and "no programme" in other.output
    assert not (tmp_path / "x.pdf").exists()


def test_lead_downloads_the_pack_from_the_programme_page(site: SimpleNamespace) -> None:
    client = site.app.test_client()
    assert Auth(client).sign_in("lead", site.passwords["lead"]).status_code == 302
    page = client.get(f"/programmes/{site.programme['id']}")
    assert b"Download the self-evaluation pack" in page.data
    form = client.get(f"/programmes/{site.programme['id']}/pack")
    assert form.status_code == 200 and b'name="from"' in form.data
    url = f"/programmes/{site.programme['id']}/pack/download"
    pdf = client.get(url, query_string={"from": "2026-08-01", "to": "2026-12-31", "format": "pdf"})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "self-evaluation-2026-08-01-to-2026-12-31.pdf" in pdf.headers["Content-Disposition"]
    bad = client.get(url, query_string={"from": "2026-12-01", "to": "2026-01-01", "format": "pdf"})
    assert bad.status_code == 200 and bad.mimetype == "text/html"
    assert b"is after the to date" in bad.data and b"govuk-error-summary" in bad.data
    no_format = client.get(url, query_string={"from": "2026-01-01", "to": "2026-02-01"})
    assert no_format.mimetype == "text/html" and b"Choose PDF or Word document" in no_format.data
