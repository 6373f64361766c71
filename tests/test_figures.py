"""Figures a council can publish: the right unit, the rubric's own words, one truth per number.

Three things are tested here, end to end through the data layer, the pages, the JSON, the
PDFs and the spreadsheet:

* a section without a grade counts cases ("every check met"), never pooled answers called
  cases; the share of answers beside it says "answers" and has a clustered interval;
* a 3-point rubric whose threshold is "Adequate" (``tests/data/care-leaver-3-point.yaml``,
  synthetic) says "adequate or better" on every page, chart and PDF, never "good or better";
* every figure that appears on more than one surface (dashboard, findings page, findings
  JSON, internal PDF, public PDF where not suppressed, XLSX) is extracted from each and
  compared, for the demo and for generated reviews (hypothesis).
"""

from __future__ import annotations

import base64
import html as html_lib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import analysis, create_app, demo, findings
from audit.data import audits, moderation, reviews, users
from audit.data import findings as finding_data
from audit.data import programmes as programme_data
from audit.data.db import connect
from audit.reporting import disclosure, report
from audit.rubric import Rubric, parse_rubric
from audit.stats import Proportion, clustered_share, wilson
from tests.conftest import PASSWORD, ROLES, Auth
from tests.test_findings import add_cases, new_review, score
from tests.test_report import flat, pdf_text

THREE_POINT = Path(__file__).parent / "data" / "care-leaver-3-point.yaml"
SHARE = r"(\d+)% \(95% interval (\d+)% to (\d+)%; (\d+) of (\d+) (cases|answers)"


def three_point() -> Rubric:
    """The synthetic 3-point care-leaver rubric (threshold: Adequate)."""
    return parse_rubric(THREE_POINT.read_text(encoding="utf-8"), source=str(THREE_POINT))


def two_checks() -> Rubric:
    """A rubric whose "Records" section has two yes/no checks and no grade."""
    text = THREE_POINT.read_text(encoding="utf-8").replace(
        "  - id: notes\n",
        "  - id: records\n    title: Records\n    questions:\n"
        "      - {id: chronology, text: Is there an up-to-date chronology?, type: yes_no}\n"
        "      - {id: genogram, text: Is there a genogram?, type: yes_no}\n"
        "  - id: notes\n",
    )
    return parse_rubric(text, source="two-checks.yaml")


# --------------------------------------------------------------------------- a small site


@dataclass
class Site:
    """A review on a fresh instance, a lead's signed-in client, and its surfaces on demand."""

    app: Flask
    db: Any
    client: FlaskClient
    review: Any
    folder: Path

    def page(self, path: str) -> str:
        response = self.client.get(f"/reviews/{self.review.id}/{path}")
        assert response.status_code == 200, path
        return response.text

    def text(self, path: str) -> str:
        return page_text(self.page(path))

    def pdf(self, audience: str) -> str:
        review = reviews.get(self.db, self.review.id)
        return flat(pdf_text(report.render(self.app, self.db, review, audience), self.folder))

    def json(self) -> dict[str, Any]:
        return analysis.findings_document(self.db, reviews.get(self.db, self.review.id))

    def xlsx_findings(self) -> list[dict[str, Any]]:
        data, _ = analysis.spreadsheet(self.db, reviews.get(self.db, self.review.id), "xlsx")
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True)["Findings"]
        rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
        return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def page_text(markup: str) -> str:
    """Return what a reader sees of a page: tags out, entities decoded, spaces collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.S)
    return flat(html_lib.unescape(re.sub(r"<[^>]+>", " ", body)))


@pytest.fixture
def site_factory(tmp_path: Path) -> Iterator[Any]:
    made: list[Site] = []

    def make(rubric: Rubric, cases: list[tuple[str, str]]) -> tuple[Site, dict[str, Any], list]:
        folder = tmp_path / f"site{len(made)}"
        site, people, ids = _site(folder, rubric, cases)
        made.append(site)
        return site, people, ids

    yield make
    for site in made:
        site.db.conn.close()


def _site(folder: Path, rubric: Rubric, cases: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True)
    app = create_app({"INSTANCE_PATH": folder / "instance", "TESTING": True})
    db = connect(app.config["DATABASE"])
    people = {
        name: users.create(db, name, PASSWORD, role, display_name=f"Test {name.title()}")
        for name, role in ROLES.items()
    }
    review, ids = new_review(db, people, rubric, cases)
    client = app.test_client()
    Auth(client).sign_in("lead")
    return Site(app, db, client, review, folder), people, ids


# --------------------------------------------------------------------------- section shares


def test_forty_cases_answering_two_checks_count_forty_cases_never_eighty(site_factory) -> None:  # type: ignore[no-untyped-def]
    """A section's share counts cases; the answers' share says answers and is clustered."""
    rubric = two_checks()
    site, people, ids = site_factory(rubric, [("care_leaver", "North")] * 40)
    by = people["reviewer"].id
    for n, case_id in enumerate(ids):
        # 16 cases met both checks, 8 met one, 16 met neither: 40 of 80 answers, 16 of 40 cases.
        chronology, genogram = (
            ("yes", "yes") if n < 16 else ("yes", "no") if n < 24 else ("no", "no")
        )
        values = {
            "young_person_safe": "yes",
            "risk_assessed": "yes",
            "pathway_in_time": "yes",
            "pathway_grade": "adequate",
            "chronology": chronology,
            "genogram": genogram,
            "overall_grade": "adequate",
        }
        score(site.db, rubric, case_id, by, values)
    review = reviews.get(site.db, site.review.id)
    agg = analysis.aggregate(site.db, review)
    records = agg.section("records")
    assert records.basis == "checks" and records.unit == "cases"
    assert records.breakdown.whole.good == wilson(16, 40)
    expected_answers = clustered_share([(2, 2)] * 16 + [(1, 2)] * 8 + [(0, 2)] * 16)
    assert records.answers == expected_answers
    assert (records.answers.count, records.answers.n, records.answers.unit) == (40, 80, "answers")
    # Answers going together within cases widen the interval beyond 80 independent answers'.
    assert records.answers.low < wilson(40, 80).low

    doc = site.json()
    section = next(s for s in doc["sections"] if s["id"] == "records")
    assert section["measure"] == "cases with every check met"
    assert section["all"]["good_or_better"] == {**wilson(16, 40).as_dict(), "unit": "cases"}
    assert section["checks_met"]["unit"] == "answers" and section["checks_met"]["cases"] == 40
    suggestion = next(s for s in doc["suggested_findings"] if s["key"] == "section:records")
    assert "(16 of 40 cases)" in suggestion["text"]

    surfaces = {
        "dashboard": site.text("dashboard"),
        "findings page": site.text("findings"),
        "internal PDF": site.pdf("internal"),
        "public PDF": site.pdf("public"),
    }
    for name, text in surfaces.items():
        assert "of 80 cases" not in text, name
        # 80 answers may only ever be called answers (the safety section has two checks too).
        assert not re.search(r"\b\d+ of 80\b(?! answers from 40 cases)", text), name
    for name in ("dashboard", "internal PDF", "public PDF"):
        text = surfaces[name]
        assert "Cases with every check met: 40% (95% interval" in text, name
        assert "16 of 40 cases)" in text, name
        assert "40 of 80 answers from 40 cases)" in text, name
    assert "Records: every check met in only 40% of the cases audited" in surfaces["findings page"]
    # Agreement covers the sections without a grade too, in the report as in the JSON.
    assert {"safety", "records", "pathway"} <= {s["key"] for s in doc["agreement"]["sections"]}
    context = report.report_context(site.app, site.db, review, audience="internal")
    assert {"Safety", "Records", "Pathway plan"} <= {row["label"] for row in context["agreement"]}
    # The section with only a text question has no share at all, and no "no answers" line.
    for name in ("internal PDF", "public PDF"):
        assert "Checks met: no answers" not in surfaces[name]
        assert not re.search(r"Notes [^.]{0,40}no answers", surfaces[name]), name


# --------------------------------------------------------------------------- rubric's words


def test_three_point_rubric_speaks_its_own_threshold_everywhere(site_factory) -> None:  # type: ignore[no-untyped-def]
    """Every label on pages, charts and both PDFs says "adequate or better"."""
    rubric = three_point()
    cases = [("care_leaver", "North")] * 4 + [("cla", "South")] * 4
    site, people, ids = site_factory(rubric, cases)
    grades = ["strong", "adequate", "adequate", "weak", "adequate", "weak", "strong", "adequate"]
    for case_id, grade in zip(ids, grades, strict=True):
        values = {
            "young_person_safe": "yes",
            "risk_assessed": "yes",
            "pathway_in_time": "na",
            "pathway_grade": grade,
            "overall_grade": grade,
        }
        score(site.db, rubric, case_id, people["reviewer"].id, values)
    review = reviews.get(site.db, site.review.id)
    agg = analysis.aggregate(site.db, review)
    for suggestion in findings.suggest(agg):
        if suggestion.kind == "strength":
            finding_data.add_from_suggestion(
                site.db,
                review.id,
                suggestion,
                status="accepted",
                # Worded without counts, as the public version requires (see test_disclosure).
                text="Pathway plans were often Adequate or better.",
                by=people["lead"].id,
            )
    dashboard = site.page("dashboard")
    charts = re.findall(r"<svg\b.*?</svg>", dashboard, flags=re.S)
    assert charts, "the dashboard draws its charts"
    surfaces = {
        "dashboard": page_text(dashboard),
        "dashboard charts": " ".join(charts),
        "findings page": site.text("findings"),
        "internal PDF": site.pdf("internal"),
        "public PDF": site.pdf("public"),
        "report HTML": (report_html := report.build_html(site.app, site.db, review)),
        "report charts": " ".join(
            base64.b64decode(data).decode("utf-8")
            for data in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', report_html)
        ),
        "JSON": str(site.json()),
        "XLSX": str(site.xlsx_findings()),
    }
    for name, text in surfaces.items():
        assert not re.search(r"good or better", text, re.I), name
    for name in (
        "dashboard",
        "dashboard charts",
        "internal PDF",
        "public PDF",
        "report HTML",
        "report charts",
    ):
        assert re.search(r"adequate or better", surfaces[name], re.I), name
    assert "Cases adequate or better overall: 75%" in surfaces["dashboard"]
    assert "Cases judged adequate or better overall: 75%" in surfaces["internal PDF"]
    assert "“Adequate or better” counts Strong and Adequate" in surfaces["internal PDF"]
    # The rubric's own sentences: no claim that every section has a grade and checks.
    assert "Each section of the audit tool has a grade" not in surfaces["internal PDF"]
    assert "1 of the 4 sections has a grade for the quality of practice" in surfaces["internal PDF"]
    assert "Adequate or better" in str(site.xlsx_findings()[0].keys())


def test_programme_trend_speaks_the_latest_rubrics_threshold(site_factory) -> None:  # type: ignore[no-untyped-def]
    """The programme page's chart and table name the 3-point rubric's threshold."""
    rubric = three_point()
    site, people, _ = site_factory(rubric, [])
    lead = people["lead"].id
    programme_id = programme_data.create(site.db, title="Care leavers", kind="self_audit", by=lead)
    review = reviews.create(
        site.db,
        title="Care leavers, autumn",
        host_organisation="Testshire Council",
        kind="self_audit",
        rubric=rubric,
        programme_id=programme_id,
        by=lead,
    )
    reviews.add_member(site.db, review.id, people["reviewer"].id, "reviewer")
    ids = add_cases(site.db, review.id, [("care_leaver", "North")] * 3, people["reviewer"].id)
    for case_id, grade in zip(ids, ["strong", "adequate", "weak"], strict=True):
        values = {
            "young_person_safe": "yes",
            "risk_assessed": "yes",
            "pathway_in_time": "yes",
            "pathway_grade": grade,
            "overall_grade": grade,
        }
        score(site.db, rubric, case_id, people["reviewer"].id, values)
    response = site.client.get(f"/programmes/{programme_id}")
    assert response.status_code == 200
    assert not re.search(r"good or better", response.text, re.I)
    text = page_text(response.text)
    assert "Cases adequate or better overall, by review" in response.text  # the chart's name
    assert "Dots are the share of cases adequate or better overall" in text
    assert "Adequate or better" in text  # the trend table's column


# --------------------------------------------------------------------------- one truth


def _shares(text: str, before: str = "") -> list[tuple[int, ...]]:
    """Extract "P% (95% interval L% to H%; C of N unit" figures, each after ``before``."""
    pattern = re.escape(before) + SHARE if before else SHARE
    return [tuple(int(g) for g in m.groups()[:5]) for m in re.finditer(pattern, text)]


def _figure(p: dict[str, Any] | Proportion) -> tuple[int, ...]:
    data = p.as_dict() if isinstance(p, Proportion) else p
    return (
        round(data["share"] * 100),
        round(data["low"] * 100),
        round(data["high"] * 100),
        data["count"],
        data["n"],
    )


def _in_public(before: str, p: dict[str, Any], public: str | None) -> bool:
    """Tell whether the public text shows this share after ``before``, in full as inside or
    withheld ("<5", "[c]", "more than N of M") by the disclosure control, or says it was
    left out."""
    if public is None:
        return True
    if _figure(p) in _shares(public, before):
        return True
    unit = p.get("unit", "cases")
    withheld = rf"(?:more than \d+|<\d+|\[c\]|\d+) of (?:<\d+|\[c\]|\d+) {unit}\b"
    if re.search(re.escape(before) + withheld, public) is not None:
        return True
    if before.startswith("Evidence") and "Evidence: not shown in the public version" in public:
        return True
    # A share whose count or remainder is itself small may be withheld whole (docs/report.md:
    # the headline is kept whenever it is not itself small).
    small = min(p["count"], p["n"] - p["count"]) < disclosure.DEFAULT_THRESHOLD
    return small and f"{before}not shown in the public version" in public


def _row_in_public(row: str, p: dict[str, Any], public: str | None) -> bool:
    """Tell whether a row of a breakdown is in the public text, alone or shown together
    ("Other teams (A, B)"), or its breakdown is left out with a sentence saying so."""
    if public is None or _in_public(f"{row} ", p, public):
        return True
    together = re.findall(r"Other (?:case types|teams) \(([^)]*)\)", public)
    if any(row in names.split(", ") for names in together):
        return True
    return "are left out of the public version" in public


def assert_one_truth(site: Site) -> None:
    """Compare every figure shown on more than one surface with the findings JSON."""
    doc = site.json()
    dashboard = site.text("dashboard")
    findings_page = site.text("findings")
    internal = site.pdf("internal")
    try:
        public: str | None = site.pdf("public")
    except report.ReportError:
        public = None  # a review too small to protect has no public version (test_disclosure)
    label = doc["good_or_better_label"].lower()

    # Cases counted.
    audited = doc["audited_cases"]
    assert re.search(rf"\b{audited} audits? counted", dashboard)
    assert re.search(rf"\b{audited} case files? (was|were) audited", internal)

    # The headline share.
    whole = doc["headline"]["overall_judgement"]["all"]["good_or_better"]
    if whole["n"]:
        assert _shares(dashboard, f"Cases {label} overall: ")[:1] == [_figure(whole)]
        assert _shares(internal, f"Cases judged {label} overall: ") == [_figure(whole)]
        assert _in_public(f"Cases judged {label} overall: ", whole, public)

    # Shares by case type and by team, with intervals, on the dashboard and in the report.
    rubric = reviews.get(site.db, site.review.id).rubric
    for group, name in (("by_case_type", "case_type"), ("by_team", "team")):
        for key, dist in doc["headline"]["overall_judgement"][group].items():
            good = dist["good_or_better"]
            if not good["n"]:
                continue
            row = rubric.case_type(key).label if name == "case_type" else key or "No team given"
            assert _figure(good) in _shares(dashboard, f"{row} "), (group, key)
            assert _figure(good) in _shares(internal, f"{row} "), (group, key)
            assert _row_in_public(row, good, public), (group, key)

    # Section shares, in cases, each with the words saying what it counts.
    for section in doc["sections"]:
        if not section["measure"] or section["id"] == _overall_section(rubric):
            continue
        good = section["all"]["good_or_better"]
        assert good["unit"] == "cases"
        before = section["measure"].capitalize() + ": "
        if good["n"]:
            assert _figure(good) in _shares(dashboard, before), section["id"]
            assert _figure(good) in _shares(internal, before), section["id"]
            assert _in_public(before, good, public), section["id"]
        if section.get("checks_met", {}).get("n"):
            met = section["checks_met"]
            assert _figure(met) in _shares(internal, "Check answers met (a share of answers): ")
            assert _figure(met) in _shares(dashboard)

    # Children not adequately safeguarded, and alerts: the same sentences everywhere.
    for sentence in doc["safeguarding"]["sentences"]:
        assert sentence in dashboard
        assert flat(sentence) in internal
    counted = {
        "cases": doc["safeguarding"]["cases_not_adequately_safeguarded"],
        "audited": doc["safeguarding"]["cases_audited"],
        "alerts": doc["safeguarding"]["alerts_raised"],
        "alert_cases": doc["safeguarding"]["cases_with_alerts"],
        "recorded": doc["safeguarding"]["alerts_recorded"],
    }
    figures = report.gather(site.app, site.db, reviews.get(site.db, site.review.id))
    assert flat(report.safeguarding_statement(figures.internal)) in internal
    if public is not None:
        assert flat(report.safeguarding_statement(figures.public)) in public
    assert figures.internal.value("safeguarding") == counted["cases"]
    assert figures.internal.value("alerts") == counted["alerts"]

    # Moderation (first and second audits) and agreement.
    mod = doc["moderation"]
    assert f"{mod['moderated']} of {mod['submitted']} submitted audits moderated" in dashboard
    assert f"moderated {mod['moderated']} of the {mod['submitted']} submitted audits" in internal
    twice = doc["agreement"]["cases_audited_twice"]
    assert re.search(rf"\b{twice} cases? audited twice", dashboard)
    assert re.search(rf"\b{twice} cases? (was|were) audited independently", internal)
    agreed = {s["key"] for s in doc["agreement"]["sections"]}
    for section in doc["sections"]:
        if section["basis"] in ("grade", "checks"):
            assert section["id"] in agreed, section["id"]

    # Curated findings' evidence: JSON, XLSX, findings page and both PDFs.
    sheet = {row["finding_id"]: row for row in site.xlsx_findings()}
    for finding in doc["curated_findings"]:
        evidence = finding["evidence"]
        if not evidence.get("n"):
            continue
        row = sheet[finding["id"]]
        assert (row[doc["good_or_better_label"]], row["Out of"], row["Counted in"]) == (
            evidence["count"],
            evidence["n"],
            evidence["unit"],
        )
        assert _figure(evidence) in _shares(findings_page, "Evidence: ")
        assert _figure(evidence) in _shares(internal, "Evidence: ")
        assert _in_public("Evidence: ", evidence, public)


def _overall_section(rubric: Rubric) -> str | None:
    return next(
        (s.id for s in rubric.sections if s.grade_question == rubric.overall.question), None
    )


def test_demo_figures_agree_on_every_surface(tmp_path: Path) -> None:
    """The demo: every figure shown twice is the same figure, each share with its unit."""
    instance = tmp_path / "instance"
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True})
    db = connect(app.config["DATABASE"])
    try:
        credentials = demo.seed(db, app.extensions["rubric_library"], instance)
        review = reviews.find(db, demo.DEMO_TITLE)
        client = app.test_client()
        lead = next(c for c in credentials if c.username == "lead")
        Auth(client).sign_in("lead", lead.password)
        site = Site(app, db, client, review, tmp_path)
        assert_one_truth(site)
        # The demo shows the unit beside each share.
        dashboard = site.text("dashboard")
        assert re.search(
            r"Cases good or better overall: \d+% \(95% interval [^)]* cases\)", dashboard
        )
    finally:
        db.conn.close()


CASE = st.tuples(
    st.sampled_from(["care_leaver", "cla"]),
    st.sampled_from(["North", "South", "East"]),
    st.sampled_from(["yes", "yes", "yes", "no"]),  # safe
    st.sampled_from(["yes", "no", None]),  # risk assessed
    st.sampled_from(["yes", "no", "na"]),  # pathway in time
    st.sampled_from(["strong", "adequate", "weak"]),
    st.sampled_from(["strong", "adequate", "weak"]),
)


@settings(max_examples=3)
@given(
    cases=st.lists(CASE, min_size=6, max_size=14),
    moderate=st.booleans(),
    second=st.booleans(),
)
def test_generated_review_figures_agree_on_every_surface(
    tmp_path_factory: pytest.TempPathFactory, cases, moderate: bool, second: bool
) -> None:  # type: ignore[no-untyped-def]
    """Generated reviews (small teams, one-case cells, N/A answers): one truth per number."""
    rubric = three_point()
    folder = tmp_path_factory.mktemp("generated")
    site, people, ids = _site(folder / "site", rubric, [(ct, team) for ct, team, *_ in cases])
    try:
        first = {}
        for case_id, (_ct, _team, safe, risk, in_time, pathway, overall) in zip(
            ids, cases, strict=True
        ):
            values = {
                "young_person_safe": safe,
                "risk_assessed": risk,
                "pathway_in_time": in_time,
                "pathway_grade": pathway,
                "overall_grade": overall,
            }
            first[case_id] = score(site.db, rubric, case_id, people["reviewer"].id, values)
        lead = people["lead"].id
        if moderate:
            moderation.moderate(
                site.db,
                first[ids[0]],
                site.review.id,
                changed={"pathway_grade": (cases[0][5], "weak", "Plan not reviewed")},
                note="",
                by=lead,
            )
        if second:
            audits.choose_second_audits(site.db, site.review.id, ids[:2], by=lead)
            for case_id in ids[:2]:
                values = {
                    "young_person_safe": "yes",
                    "risk_assessed": "no",
                    "pathway_in_time": "yes",
                    "pathway_grade": "adequate",
                    "overall_grade": "adequate",
                }
                score(site.db, rubric, case_id, people["other"].id, values, purpose="second")
        review = reviews.get(site.db, site.review.id)
        for suggestion in findings.suggest(analysis.aggregate(site.db, review))[:3]:
            finding_data.add_from_suggestion(
                site.db, review.id, suggestion, status="accepted", text="", by=lead
            )
        assert_one_truth(site)
    finally:
        site.db.conn.close()
