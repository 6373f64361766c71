"""Disclosure control in the public report: suppression, the attacker, the lead's wording."""

from __future__ import annotations

import os
import random
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from audit import create_app, demo
from audit.cli import main
from audit.data import audits, reviews, users
from audit.data import findings as finding_data
from audit.data.db import connect
from audit.reporting import disclosure, report
from audit.scoring import Answer, adverse, applicable
from tests import attacker
from tests.helpers import health_check

# --------------------------------------------------------------------------- suppression


def test_a_small_cell_beside_a_row_total_takes_another_cell_with_it() -> None:
    # The row "<5 | 5 (36%) | 5 (36%) | 14": 14 - 5 - 5 gives the 4 away.
    table = disclosure.Table()
    cells = [table.cell(f"row:{i}", v) for i, v in enumerate([4, 5, 5])]
    table.cell("row", 14)
    table.relate("row", cells)
    assert table.unprotected().count("row:0") == "4"
    view = table.protect(5)
    assert view.count("row:0") == "<5"
    assert [view.count(c) for c in cells].count("[c]") == 1
    assert view.count("row") == "14"
    lo, hi = table.bounds(view.withheld, 5)["row:0"]
    assert lo < hi


def test_na_beside_a_share_of_all_cases_is_protected() -> None:
    # The "<5" N/A beside "18 of 28" out of 32 cases: 32 - 28 = 4.
    table = disclosure.Table()
    table.cell("audited", 32, anchor=True)
    table.share("check", 18, 28)
    table.cell("check:na", 4)
    table.relate("audited", ["check:n", "check:na"])
    view = table.protect(5)
    assert view.count("check:na") == "<5"
    assert view.hidden("check:n")  # 28 would give the 4 away
    share = view.share("check", _proportion(18, 28))
    assert share.endswith("of [c] cases") and "%" not in share
    assert view.count("audited") == "32"


def test_pooled_figure_minus_a_question_protects_the_other_question() -> None:
    # The pooled "49 of 60" minus one question's "18 of 28" gave the other's "no" of 1.
    table = disclosure.Table()
    table.share("q1", 18, 28)
    table.share("q2", 31, 32)
    table.share("pooled", 49, 60)
    for part in ("n", "count", "rest"):
        table.relate(f"pooled:{part}", [f"q1:{part}", f"q2:{part}"])
    view = table.protect(5)
    assert view.withheld["q2:rest"] == disclosure.PRIMARY
    bounds = table.bounds(view.withheld, 5)
    assert bounds["q2:rest"][0] < bounds["q2:rest"][1]
    assert view.share("q2", _proportion(31, 32)) in {"more than 27 of 32 cases", "[c] of 32 cases"}
    assert "%" not in view.share("pooled", _proportion(49, 60)) or not view.hidden("pooled:rest")


def test_zero_is_printed_and_an_unprotectable_table_is_refused() -> None:
    table = disclosure.Table()
    table.cell("a", 0)
    table.cell("b", 3)
    table.cell("total", 3, known=True)
    table.relate("total", ["a", "b"])
    with pytest.raises(disclosure.DisclosureError, match="b cannot be protected"):
        table.protect(5)
    assert disclosure.Table(values={"a": 0}).protect(5).count("a") == "0"


def test_a_count_registered_twice_with_different_values_is_refused() -> None:
    table = disclosure.Table()
    table.cell("a", 3)
    with pytest.raises(disclosure.DisclosureError, match="registered as 3 and as 4"):
        table.cell("a", 4)
    table.cell("b", 2)
    with pytest.raises(disclosure.DisclosureError, match="not the sum"):
        table.relate("a", ["b"])


def _proportion(count: int, n: int) -> Any:
    from audit.stats import wilson

    return wilson(count, n)


# --------------------------------------------------------------------------- the lead's wording


def _view_with(secret: int = 9) -> disclosure.View:
    table = disclosure.Table()
    table.share("shown", 12, 24)
    table.share("hidden", 2, 24)
    table.cell("other", secret)
    table.cell("total", secret + 3)
    table.cell("small", 3)
    table.relate("total", ["other", "small"])
    return table.protect(5)


@pytest.mark.parametrize(
    ("words", "phrases"),
    [
        ("1 case(s) where a child was found not adequately safeguarded", ["1 case(s)"]),
        ("In 2 of 32 cases the plan was late.", ["2 of 32 cases"]),
        ("Yes in 30 of 32 cases.", ["30 of 32 cases"]),
        ("Two children had no plan.", ["Two children"]),
        ("Only 8% of the cases audited had a plan.", ["8% of the cases"]),
        ("9 cases were graded well.", ["9 cases"]),
        ("Half of the cases (12 of 24) were good.", []),
        ("50% of the cases were good.", []),
        ("Visits were within 10 working days; the review ran over 3 days in 2026.", []),
        ("Most cases were good; a few were not.", []),
    ],
)
def test_wording_that_gives_a_withheld_count_away_is_found(words: str, phrases: list[str]) -> None:
    assert _view_with().revealing(words, shares=[(2, 24)]) == phrases
    assert _view_with().table.unprotected().revealing(words) == []


# --------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The demo review with both versions of its report as HTML."""
    instance = tmp_path_factory.mktemp("disclosure-demo") / "instance"
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True})
    db = connect(app.config["DATABASE"])
    demo.seed(db, app.extensions["rubric_library"], instance)
    review = reviews.find(db, demo.DEMO_TITLE)
    yield SimpleNamespace(
        app=app,
        db=db,
        review=review,
        instance=instance,
        public=report.build_html(app, db, review, audience="public"),
        internal=report.build_html(app, db, review, audience="internal"),
    )
    db.conn.close()


def test_the_demo_shows_withheld_counts_and_none_can_be_worked_out(
    demo_site: SimpleNamespace,
) -> None:
    public, internal = demo_site.public, demo_site.internal
    assert "&lt;5" in public and "[c]" in public  # primary and complementary suppression
    assert attacker.attack(public, internal) == []
    read = attacker.read(public)
    assert len(read.withheld) > 20 and len(read.sums) > 50  # the attacker read the page


def test_the_attacker_would_find_counts_without_complementary_suppression(
    demo_site: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def primary_only(self: disclosure.Table, threshold: int = 5) -> disclosure.View:
        small = {k: disclosure.PRIMARY for k, v in self.values.items() if 0 < v < threshold}
        return disclosure.View(self, threshold=threshold, withheld=small)

    monkeypatch.setattr(disclosure.Table, "protect", primary_only)
    app, db, review = demo_site.app, demo_site.db, demo_site.review
    found = attacker.attack(
        report.build_html(app, db, review, audience="public"), demo_site.internal
    )
    names = {f.name for f in found}
    assert any(name.endswith(".na") for name in names)  # N/A beside a share of all cases
    assert any(name.startswith("bysection:") for name in names)  # a row total minus cells


def test_a_chart_drawing_a_withheld_row_would_give_it_away(
    demo_site: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def raw(figures: report.Figures, view: disclosure.View, prefix: str) -> list[int | str]:
        return [view.value(f"{prefix}:{key}") for key, _ in figures.levels]

    monkeypatch.setattr(report, "_chart_cells", raw)
    app, db, review = demo_site.app, demo_site.db, demo_site.review
    found = attacker.attack(
        report.build_html(app, db, review, audience="public"), demo_site.internal
    )
    assert any(":" in f.name and f.name.startswith(("bytype:", "bysection:")) for f in found)


def test_the_public_pdf_prints_no_number_the_page_does_not(
    demo_site: SimpleNamespace, tmp_path: Path
) -> None:
    pdf = report.render_pdf(demo_site.public, title="t", author="a")
    path = tmp_path / "public.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    page = attacker.visible(re.sub(r"<style.*?</style>", "", demo_site.public, flags=re.S))
    on_page = set(re.findall(r"\d+", page))
    in_pdf = set(re.findall(r"\d+", re.sub(r"Page \d+ of \d+", "", text)))
    page_numbers = {str(n) for n in range(1, 40)}  # the contents page's page numbers
    assert in_pdf - on_page - page_numbers == set()
    assert "<5" in text and "[c]" in text
    # The chart images carry only what the tables print: each drawn count is in its row.
    for chart, label, level, count in attacker.chart_segments(demo_site.public):
        rows = attacker.tables(demo_site.public)[chart]
        col = rows[0].index(level)
        row = next(r for r in rows if r[0] == label)
        assert re.match(rf"{count}\b", row[col]), (chart, label, level, row[col])


# --------------------------------------------------------------------------- generated reviews


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """An app with a lead and two reviewers, for generated reviews."""
    instance = tmp_path_factory.mktemp("disclosure-generated") / "instance"
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True})
    db = connect(app.config["DATABASE"])
    lead = users.create(db, "lead", "correct-horse-battery", "lead", display_name="Test Lead")
    reviewer = users.create(
        db, "reviewer", "correct-horse-battery", "reviewer", display_name="Test Reviewer"
    )
    yield SimpleNamespace(app=app, db=db, lead=lead, reviewer=reviewer, made=[0])
    db.conn.close()


CASE_TYPES = ("cp", "cin", "early_help", "cla", "care_leaver", "referral_assessment")


@st.composite
def generated_cases(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Small reviews: a few case types and teams, one-case cells, N/A patterns, escalations."""
    size = draw(st.integers(min_value=6, max_value=26))
    main = draw(st.sampled_from(CASE_TYPES))
    rare = draw(st.lists(st.sampled_from(CASE_TYPES), min_size=1, max_size=3))
    teams = draw(st.integers(min_value=1, max_value=4))
    na_rate = draw(st.sampled_from([0.0, 0.1, 0.4]))
    cases = []
    for index in range(size):
        cases.append(
            {
                "case_type": rare[index % len(rare)] if index % 4 == 3 else main,
                "team": f"Team {chr(65 + draw(st.integers(0, teams - 1)))}",
                "seed": draw(st.integers(0, 10_000)),
                "na_rate": na_rate,
                "unsafe": draw(st.booleans()) and index % 5 == 0,
            }
        )
    return cases


def _make_review(site: SimpleNamespace, cases: list[dict[str, Any]]) -> Any:
    db, rubric = site.db, health_check()
    site.made[0] += 1
    review = reviews.create(
        db,
        title=f"Generated review {site.made[0]}",
        host_organisation="Testshire Council",
        kind="peer_review",
        rubric=rubric,
        by=site.lead.id,
    )
    reviews.add_member(db, review.id, site.lead.id, "lead")
    reviews.add_member(db, review.id, site.reviewer.id, "reviewer")
    reviews.add_case_files(
        db,
        review.id,
        [
            {
                "reference": f"GEN-{i:04d}",
                "case_type": c["case_type"],
                "team": c["team"],
                "assigned_to": site.reviewer.id,
            }
            for i, c in enumerate(cases)
        ],
    )
    critical = [q.id for q in rubric.critical_questions()]
    for case, spec in zip(reviews.case_files(db, review.id), cases, strict=True):
        rng = random.Random(spec["seed"])
        answers = demo.demo_answers(rubric, case["case_type"], rng)
        for _section, questions in applicable(rubric, case["case_type"]):
            for q in questions:
                if q.type == "yes_no" and q.allow_na and rng.random() < spec["na_rate"]:
                    answers[q.id] = Answer(None, True)
        if spec["unsafe"]:
            answers[critical[0]] = Answer("no", evidence="Synthetic: escalated the same day.")
        audit_id = audits.start(db, case["id"], site.reviewer.id)
        audits.save(
            db,
            audit_id,
            expected_version=1,
            answers=answers,
            sections_na=(),
            feedback={
                "feedback_given": "yes",
                "feedback_date": "2026-10-28",
                "feedback_response": "Synthetic.",
            },
            adverse_questions=[q.id for q in adverse(rubric, case["case_type"], answers)],
            critical_questions=critical,
            by=site.reviewer.id,
            submit=True,
        )
    return reviews.get(db, review.id)


EXAMPLES = int(os.environ.get("DISCLOSURE_EXAMPLES", "18"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(cases=generated_cases())
def test_no_withheld_count_can_be_worked_out_in_generated_reviews(
    site: SimpleNamespace, cases: list[dict[str, Any]]
) -> None:
    review = _make_review(site, cases)
    internal = report.build_html(site.app, site.db, review, audience="internal")
    try:
        public = report.build_html(site.app, site.db, review, audience="public")
    except report.ReportError as exc:  # refused: nothing published, nothing given away
        event(f"public version refused: {str(exc)[:90]}")
        assert "cannot" in str(exc)
        return
    event("withheld some" if "[c]" in public or "&lt;5" in public else "nothing withheld")
    assert attacker.attack(public, internal) == []


# --------------------------------------------------------------------------- the lead's wording


def test_a_finding_that_gives_a_count_away_blocks_the_public_version(
    tmp_path: Path,
) -> None:
    instance = tmp_path / "instance"
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True})
    db = connect(app.config["DATABASE"])
    demo.seed(db, app.extensions["rubric_library"], instance)
    review = reviews.find(db, demo.DEMO_TITLE)
    figures = report.gather(app, db, review)
    assert report.public_blockers(figures) == []  # the demo's lead reworded hers
    finding_data.add_own(
        db,
        review.id,
        kind="development",
        text="1 case(s) where a child was found not adequately safeguarded.",
        by=None,
    )
    blockers = report.public_blockers(report.gather(app, db, review))
    assert [b.phrases for b in blockers] == [("1 case(s)",)]
    with pytest.raises(report.PublicBlocked, match=r"“1 case\(s\)”"):
        report.build_html(app, db, review, audience="public")
    assert "1 case(s)" in report.build_html(app, db, review)  # the internal version is fine
    result = CliRunner().invoke(
        main,
        [
            "report",
            "--instance",
            str(instance),
            review.id,
            "-o",
            str(tmp_path / "p.pdf"),
            "--public",
        ],
    )
    assert result.exit_code != 0
    assert "1 case(s)" in result.output and "reword" in result.output
    assert not (tmp_path / "p.pdf").exists()
    db.conn.close()


def test_shares_are_written_only_when_count_total_and_remainder_are_printed() -> None:
    table = disclosure.Table()
    for name, count, n in (("most", 23, 24), ("few", 3, 24), ("half", 12, 24)):
        table.share(name, count, n)
    public, internal = table.protect(5), table.unprotected()
    assert public.share("most", _proportion(23, 24)) == "more than 19 of 24 cases"
    assert public.share("few", _proportion(3, 24)) == "<5 of 24 cases"
    assert public.share("half", _proportion(12, 24)).startswith("50% (95% interval")
    assert internal.share("most", _proportion(23, 24)).endswith("; 23 of 24 cases)")
    assert public.text("Yes in 96% of cases (23 of 24); 2 of 3 teams") == (
        "Yes in 96% of cases (more than 19 of 24); <5 of <5 teams"
    )


def test_public_chart_draws_a_withheld_count_as_a_band_of_fixed_width() -> None:
    from audit.reporting import charts

    levels = [("good", "Good"), ("ri", "Requires improvement"), ("bad", "Inadequate")]
    svg = str(
        charts.protected_bars(
            [("Team A", [12, "<5", 6]), ("Team B", [30, "[c]", 0])],
            title="Grades",
            levels=levels,
            chart_id="test-protected",
        )
    )
    bands = re.findall(r'class="app-chart__withheld" x="[\d.]+" y="[\d.]+" width="([\d.]+)"', svg)
    assert bands == [str(charts.WITHHELD_BAND)] * 2
    widths = [
        float(w)
        for w in re.findall(
            r'class="app-chart__segment" x="[\d.]+" y="[\d.]+" width="([\d.]+)"', svg
        )
    ]
    assert len(widths) == 3  # 12 and 6 in the first row, 30 in the second; no zero segment
    assert abs(widths[0] / widths[1] - 2) < 0.01  # printed counts share the rest in proportion
    assert "Good: 12" in svg and "Requires improvement: &lt;5 (withheld)" in svg
    assert "Team B: Good 30, Requires improvement [c] (withheld), Inadequate 0." in svg
    with pytest.raises(ValueError, match="Team C: 2 cells for 3 levels"):
        charts.protected_bars([("Team C", [1, 2])], title="t", levels=levels, chart_id="x")
