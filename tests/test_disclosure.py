"""Disclosure control: the model, the exact attacker, least loss, and the lead's wording.

The attacker tests read the *rendered* public report (HTML, PDF through pdftotext, Word
through python-docx), account for every numeral in it, and solve for each withheld count
(see tests/attacker.py); they run on every demo review and on generated reviews.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from audit import create_app, demo, findings
from audit.cli import main
from audit.data import audits, moderation, reviews, users
from audit.data import findings as finding_data
from audit.data.db import connect
from audit.reporting import disclosure, protection, report, report_docx
from audit.rubric import Rubric, parse_rubric
from audit.scoring import Answer, adverse, applicable
from audit.stats import wilson
from tests import attacker
from tests.helpers import REPO, health_check

THREE_POINT = REPO / "tests" / "data" / "care-leaver-3-point.yaml"

# --------------------------------------------------------------------------- the model


def _row(values: list[int], *, anchor: bool = True) -> disclosure.Model:
    """One breakdown and its total: a frame of one dimension."""
    model = disclosure.Model()
    frame = model.frame("cases", {"kind": [f"k{i}" for i in range(len(values))]})
    for i, value in enumerate(values):
        frame.add(value, kind=f"k{i}")
        model.cell(f"row:{i}", frame.where(kind=f"k{i}"), group="row")
    model.cell("total", frame.where(), anchor=anchor, group="total")
    return model


def _ranges(model: disclosure.Model, view: disclosure.View) -> dict[str, tuple[int, float]]:
    return protection.attack(model, view.status, view.threshold)


def test_a_small_cell_beside_a_row_total_takes_another_cell_with_it() -> None:
    # "<5 | 5 | 5 | 14": 14 - 5 - 5 gives the 4 away unless another cell is withheld.
    model = _row([4, 5, 5])
    assert model.unprotected().count("row:0") == "4"
    view = model.protect(5)
    assert view.count("row:0") == "<5"
    assert [view.count(f"row:{i}") for i in (1, 2)].count("[c]") == 1
    assert view.count("total") == "14"
    lo, hi = _ranges(model, view)["row:0"]
    assert hi - lo >= 2  # at least three values


def test_a_small_cell_in_a_table_with_its_margins_takes_three_more_with_it() -> None:
    # A 2x2 table with row and column totals: freeing one small cell needs a cycle of three
    # more withheld counts (its row, its column and the cell across), never just one.
    model = disclosure.Model()
    frame = model.frame("t", {"row": ["a", "b"], "col": ["x", "y"]})
    for row, col, n in (("a", "x", 2), ("a", "y", 9), ("b", "x", 8), ("b", "y", 7)):
        frame.add(n, row=row, col=col)
        model.cell(f"{row}{col}", frame.where(row=row, col=col), group="cells")
    for row in "ab":
        model.cell(row, frame.where(row=row), group="margins")
    for col in "xy":
        model.cell(col, frame.where(col=col), group="margins")
    model.cell("all", frame.where(), anchor=True, group="all")
    view = model.protect(5)
    withheld = sorted(k for k in model.cells if view.hidden(k))
    assert len(withheld) == 4 and "ax" in withheld and "all" not in withheld, withheld
    ranges = _ranges(model, view)
    assert ranges["ax"][1] - ranges["ax"][0] >= 2
    assert all(hi > lo for key, (lo, hi) in ranges.items() if key != "ax")
    # With only the small cell withheld, the attacker pins it.
    alone = protection.attack(model, {"ax": disclosure.PRIMARY}, 5)
    assert alone["ax"] == (2, 2)


def test_na_beside_a_share_of_the_cases_a_check_applies_to_is_protected() -> None:
    # "<5" not applicable beside "18 of 28" out of the 32 cases the check applies to.
    model = disclosure.Model()
    cases = model.frame("cases", {"case_type": ["cp", "cin"]})
    cases.add(20, case_type="cp")
    cases.add(12, case_type="cin")
    check = model.frame("check", {"case_type": ["cp", "cin"], "value": ["yes", "no", "na"]})
    for ct, yes, no, na in (("cp", 10, 8, 2), ("cin", 8, 2, 2)):
        check.add(yes, case_type=ct, value="yes")
        check.add(no, case_type=ct, value="no")
        check.add(na, case_type=ct, value="na")
    model.link(cases, check, ["case_type"], why="the check is answered for every case")
    model.cell("audited", cases.where(), anchor=True, group="method")
    model.cell("type/cp", cases.where(case_type="cp"), group="types")
    model.cell("type/cin", cases.where(case_type="cin"), group="types")
    model.share("check", check.where(value="yes"), check.where(value=("yes", "no")), group="c")
    model.cell("check:na", check.where(value="na"), group="c")
    view = model.protect(5)
    assert view.count("check:na") == "<5"
    assert view.hidden("check:n")  # 28 would give the 4 away
    assert view.share("check", wilson(18, 28)) == "18 of [c] cases"
    assert view.count("audited") == "32"
    lo, hi = _ranges(model, view)["check:na"]
    assert hi - lo >= 2


def test_the_public_version_is_always_made_and_says_what_it_left_out() -> None:
    # Five categories of one case each, adding up to a printed 5: every one is pinned at 1
    # however much else is withheld, so the breakdown is left out rather than refused.
    model = _row([1, 1, 1, 1, 1])
    view = model.protect(5)
    assert view.left_out("row")
    assert view.count("total") == "5"  # the anchor stays printed
    assert view.count("row:0") == "not shown"
    assert view.cost().left_out == ("row",)
    assert view.cost().protected


def test_knowledge_counts_only_when_it_is_true_of_the_review() -> None:
    model = disclosure.Model()
    frame = model.frame("f", {"v": ["a", "b"]})
    frame.add(3, v="a")
    assert model.know(frame.where(v="b"), why="no b") is True
    assert model.know(frame.where(v="a"), why="no a") is False
    assert model.declined == ["no a"]
    assert len(model.knowledge) == 1


def test_the_view_writes_counts_in_tables_and_in_sentences() -> None:
    model = _row([3, 9, 1, 0])
    view = model.protect(5)
    assert view.count("row:0") == "<5" and view.words("row:0", "case") == "fewer than 5 cases"
    assert view.words("row:3", "case") == "0 cases" and view.count("row:3") == "0"
    withheld = [k for k in ("row:1", "total") if view.hidden(k)]
    assert not withheld or view.words(withheld[0], "case") == "5 or more cases"
    internal = model.unprotected()
    assert (
        internal.words("row:2", "case") == "1 case"
        and internal.verb("row:2", "was", "were") == "was"
    )
    assert view.verb("row:2", "was", "were") == "were"  # "fewer than 5 cases were"
    assert [p.text for p in view.printed][:3] == ["<5", "fewer than 5 cases", "0 cases"]


def test_shares_are_written_only_when_count_total_and_remainder_are_printed() -> None:
    model = disclosure.Model()
    for name, count, n in (("most", 23, 24), ("few", 3, 24), ("half", 12, 24)):
        frame = model.frame(name, {"v": ["good", "other"]})
        frame.add(count, v="good")
        frame.add(n - count, v="other")
        model.share(name, frame.where(v="good"), frame.where(), group=name)
    public, internal = model.protect(5), model.unprotected()
    assert public.share("most", wilson(23, 24)) == "more than 19 of 24 cases"
    assert public.share("few", wilson(3, 24)) == "<5 of 24 cases"
    assert public.share("half", wilson(12, 24)).startswith("50% (95% interval")
    assert internal.share("most", wilson(23, 24)).endswith("; 23 of 24 cases)")
    assert public.share_words("most") == ("more than 19", "24")
    assert public.share_words("few") == ("fewer than 5", "24")


def test_a_breakdown_mostly_below_the_threshold_is_shown_together_or_left_out() -> None:
    from audit.reporting.public_figures import collapse

    def label(c: str) -> str:
        return c.upper()

    shown = collapse(
        {"a": 9, "b": 2, "c": 3},
        label,
        5,
        prefix="team",
        other="Other teams",
        noun="teams",
        left_out_note="gone",
    )
    assert [c.label for c in shown.public] == ["A", "Other teams (B, C)"]
    assert shown.public[-1].members == ("b", "c") and "shown together" in shown.note
    gone = collapse(
        {"a": 2, "b": 2, "c": 3},
        label,
        5,
        prefix="team",
        other="Other teams",
        noun="teams",
        left_out_note="gone",
    )
    assert gone.public == () and gone.note == "gone"
    kept = collapse(
        {"a": 9, "b": 2, "c": 8},
        label,
        5,
        prefix="team",
        other="Other teams",
        noun="teams",
        left_out_note="gone",
    )
    assert kept.public == kept.internal and not kept.note  # one small category: suppression


# --------------------------------------------------------------------------- the lead's wording


def _wording_view() -> disclosure.View:
    model = disclosure.Model()
    frame = model.frame("f", {"v": ["shown", "hidden", "other", "small"]})
    for v, n in (("shown", 12), ("hidden", 2), ("other", 9), ("small", 3)):
        frame.add(n, v=v)
    model.share(
        "shown", frame.where(v="shown"), frame.where(v=("shown", "other", "small")), group="a"
    )
    model.cell("other", frame.where(v="other"), group="b")
    model.cell("small", frame.where(v="small"), group="b")
    model.cell("total", frame.where(v=("other", "small")), group="b", anchor=True)
    return model.protect(5)


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
        ("In fewer than five cases a child was not safe.", []),
        ("Under 5 cases lacked a plan, and less than 5 had no visit.", []),
        ("Fewer than 5 children were seen alone.", []),
    ],
)
def test_wording_that_gives_a_withheld_count_away_is_found(words: str, phrases: list[str]) -> None:
    view = _wording_view()
    assert [p.text for p in view.revealing(words, shares=[(2, 24)])] == phrases
    assert view.model.unprotected().revealing(words) == []


def test_count_words_are_flagged_with_a_rewording() -> None:
    view = _wording_view()
    [one] = view.revealing("Two children had no plan.")
    assert one.suggestion == "write “fewer than 5 children”"
    singular = "Where a child was found not adequately safeguarded, the case was escalated."
    assert view.revealing(singular) == []
    [flag] = view.revealing(singular, singular=True)
    assert flag.text.startswith("a child was found") and "plural" in flag.suggestion
    assert [p.text for p in view.revealing("Most plans were clear.", quantified=True)] == ["Most"]
    assert view.revealing("Most plans were clear.") == []  # not beside a withheld figure


# --------------------------------------------------------------------------- rendered reports


def _verbatim(app: Any, figures: report.Figures) -> list[str]:
    context = {
        "service_name": app.config["SERVICE_NAME"],
        "marking": report.marking_for(app, "public"),
        "rubric_sentences": findings.describe_rubric(figures.rubric),
        "summary": report._paragraphs(figures.review.executive_summary),
        "trend": report.trends_chapter(figures, figures.internal)["trend"],
    }
    return attacker.verbatim(figures, context)


def attack_rendered(
    app: Any, db: Any, review: Any, folder: Path, *, pdf: bool = True, docx: bool = True
) -> SimpleNamespace:
    """Render the public report, account for every number in it, and attack it."""
    figures = report.gather(app, db, review)
    html = report.build_html(app, db, review, audience="public", figures=figures)
    view = figures.public
    printed = list(view.printed)
    words = _verbatim(app, figures)
    # 1. The HTML: every numeral is one the view wrote.
    written = [item for item in printed if item.kind != "chart"]
    found = attacker.numerals(attacker.strip(attacker.body(html), words))
    extra = attacker.unaccounted(found, attacker.ledger_numerals(written))
    assert not extra, f"numbers the model does not know: {dict(extra)}"
    drawn = attacker.ledger_numerals(printed, {"chart"})
    svgs = attacker.charts(html)
    for svg in svgs:
        assert not attacker.unaccounted(attacker.numerals(attacker.chart_text(svg)), drawn)
    for alt in attacker.alt_texts(html):
        assert not attacker.unaccounted(attacker.numerals(attacker.strip(alt, words)), drawn)
    # What the PDF and the Word document may print: the HTML's numerals, as they stand
    # (layout can split a verbatim question across table lines, so nothing is set aside).
    page = attacker.numerals(attacker.body(html))
    for svg in svgs:
        page += attacker.numerals(attacker.chart_text(svg))
    out = SimpleNamespace(figures=figures, html=html, view=view, printed=printed)
    # 2. The PDF and the Word document print nothing the HTML does not.
    if pdf:
        text = attacker.pdf_text(report.render_pdf(html, title="t", author="a"), folder)
        # Each page's running header and footer, so that text across a page break rejoins.
        furniture = {review.title, report.marking_for(app, "public"), "DRAFT"}
        text = "\n".join(
            line
            for line in text.splitlines()
            if line.strip() not in furniture and not re.fullmatch(r"Page \d+ of \d+", line.strip())
        )
        text = re.sub(r"(?m)^.*(?: \.){3,}.*$", " ", text)  # the contents' page numbers
        extra = attacker.unaccounted(attacker.numerals(text), page)
        assert not extra, f"numbers in the PDF only: {dict(extra)}"
        out.pdf = text
    if docx:
        data = report_docx.html_to_docx(html, title="t", author="a")
        text, alts = attacker.docx_text(data)
        text = re.sub(r"Page \d+(?: of \d+)?", " ", text)  # the footer's page number fields
        extra = attacker.unaccounted(attacker.numerals(text), page)
        assert not extra, f"numbers in the Word document only: {dict(extra)}"
        for alt in alts:
            assert not attacker.unaccounted(attacker.numerals(attacker.strip(alt, words)), drawn)
        out.docx = text
    # 3. The attack: every withheld count keeps enough possible values.
    ranges = attacker.readings(printed, view.threshold)
    for key, reading in ranges.items():
        value = figures.definitions.model.cells[key].value
        assert reading.lo <= value <= reading.hi, (key, reading)
    out.narrowed = attacker.attack(figures.definitions.model, printed, view.threshold)
    out.withheld = [r for r in ranges.values() if r.withheld]
    return out


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The demo: its peer review and the programme's monthly reviews."""
    instance = tmp_path_factory.mktemp("disclosure-demo") / "instance"
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True})
    db = connect(app.config["DATABASE"])
    demo.seed(db, app.extensions["rubric_library"], instance)
    ids = [row[0] for row in db.execute("SELECT id FROM review ORDER BY title")]
    yield SimpleNamespace(
        app=app,
        db=db,
        instance=instance,
        reviews=[reviews.get(db, rid) for rid in ids],
        review=reviews.find(db, demo.DEMO_TITLE),
    )
    db.conn.close()


def test_every_demo_review_has_a_public_version_issued_as_the_tool_worded_it(
    demo_site: SimpleNamespace,
) -> None:
    app, db = demo_site.app, demo_site.db
    tool_worded = 0
    for review in demo_site.reviews:
        figures = report.gather(app, db, review)
        assert report.public_blockers(figures) == [], review.title
        for finding in figures.findings:
            tool_worded += report.tool_worded(figures, finding)
        issued = report.issue(app, db, review, audience="public", by=None)
        assert issued["sha256"]
    assert tool_worded >= 6  # the demo's leads accepted the tool's words as they were


def test_the_attacker_accounts_for_every_number_in_each_rendered_demo_report(
    demo_site: SimpleNamespace, tmp_path: Path
) -> None:
    app, db = demo_site.app, demo_site.db
    for review in demo_site.reviews:
        result = attack_rendered(app, db, review, tmp_path)
        assert result.narrowed == [], (review.title, result.narrowed)
        if review.id == demo_site.review.id:
            assert len(result.withheld) > 20  # the attacker read them all
            assert "<5" in result.pdf and "[c]" in result.pdf
            assert "fewer than 5" in result.docx


def test_without_complementary_suppression_the_attacker_narrows_small_counts(
    demo_site: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def primary_only(model: disclosure.Model, threshold: int) -> protection.Result:
        status = {
            key: disclosure.PRIMARY
            for key, cell in model.cells.items()
            if cell.sensitive and 0 < cell.value < threshold
        }
        return protection.Result(status, set(), {}, 0.0)

    monkeypatch.setattr(protection, "protect_once", primary_only)
    result = attack_rendered(
        demo_site.app, demo_site.db, demo_site.review, tmp_path, pdf=False, docx=False
    )
    narrowed = {n.key for n in result.narrowed}
    assert any(k.endswith(":na") for k in narrowed), narrowed  # N/A beside all the cases
    assert any(k.startswith("section/") for k in narrowed)  # a row total minus cells
    assert any(k.startswith("overall/team/") for k in narrowed)  # a breakdown's remainder


def test_a_number_printed_outside_the_model_fails_the_accounting(
    demo_site: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    original = report.method_chapter

    def leaky(figures: report.Figures, view: disclosure.View) -> dict[str, Any]:
        context = original(figures, view)
        # The unmodelled "28 submitted audits" of issue 16, printed raw.
        context["moderation"]["submitted"] = str(figures.moderation["submitted"] + 1000)
        return context

    monkeypatch.setattr(report, "method_chapter", leaky)
    monkeypatch.setattr(
        report, "CHAPTERS", tuple(leaky if c is original else c for c in report.CHAPTERS)
    )
    with pytest.raises(AssertionError, match="numbers the model does not know"):
        attack_rendered(
            demo_site.app, demo_site.db, demo_site.review, tmp_path, pdf=False, docx=False
        )


def test_the_demo_prints_the_cases_audited_and_the_headline_with_its_n(
    demo_site: SimpleNamespace,
) -> None:
    app, db = demo_site.app, demo_site.db
    for review in demo_site.reviews:
        figures = report.gather(app, db, review)
        if not figures.audited:
            continue
        text = attacker.visible(report.build_html(app, db, review, audience="public"))
        n = len(figures.audited)
        assert f"{n} case files were audited" in text, review.title
        assert re.search(
            rf"Cases judged good or better overall: [^.]*\b(?:of )?{n} cases\)?\s*\.", text
        ), review.title
        cost = figures.public.cost()
        assert cost.protected and cost.withheld < cost.printed / 2, (review.title, cost)


def test_the_public_preview_says_what_protection_cost(demo_site: SimpleNamespace) -> None:
    from tests.conftest import Auth

    app = demo_site.app
    password = dict(
        line.split("\t")[:2]
        for line in (demo_site.instance / "demo-credentials.txt").read_text().splitlines()
        if not line.startswith("#")
    )["lead"]
    client = app.test_client()
    Auth(client).sign_in("lead", password)
    page = client.get(f"/reviews/{demo_site.review.id}/report?audience=public").text
    text = attacker.visible(page)
    cost = report.gather(app, demo_site.db, demo_site.review).public.cost()
    assert f"{cost.withheld} of the {cost.printed} counts in the report are withheld" in text
    assert "shown together as “Other teams”" in text
    assert "The attacker\N{RIGHT SINGLE QUOTATION MARK}s verdict: protected." in text
    assert "Reword before issuing" not in text


# --------------------------------------------------------------------------- generated reviews


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """An app with a lead and two reviewers, for generated reviews."""
    instance = tmp_path_factory.mktemp("disclosure-generated") / "instance"
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True})
    db = connect(app.config["DATABASE"])
    people = [
        users.create(db, name, "correct-horse-battery", role, display_name=name.title())
        for name, role in (("lead", "lead"), ("first", "reviewer"), ("second", "reviewer"))
    ]
    yield SimpleNamespace(app=app, db=db, lead=people[0], reviewers=people[1:], made=[0])
    db.conn.close()


def _answers(rubric: Rubric, case_type: str, rng: random.Random, spec: dict[str, Any]) -> dict:
    """Answer every applicable question: grades leaning by ``spec``, N/A now and then."""
    levels = [level.id for level in rubric.scale.levels]
    answers: dict[str, Answer] = {}
    for _section, questions in applicable(rubric, case_type):
        for q in questions:
            if q.critical:
                answers[q.id] = Answer(q.good_answer or "yes")
            elif q.type == "grade":
                i = min(len(levels) - 1, int(rng.random() ** spec["lean"] * len(levels)))
                answers[q.id] = Answer(levels[i], evidence="Synthetic evidence.")
            elif q.type == "yes_no":
                if q.allow_na and rng.random() < spec["na_rate"]:
                    answers[q.id] = Answer(None, True)
                else:
                    good = rng.random() < spec["good_rate"]
                    bad = "no" if (q.good_answer or "yes") == "yes" else "yes"
                    answers[q.id] = Answer(
                        (q.good_answer or "yes") if good else bad, evidence="Synthetic."
                    )
            elif q.required:
                answers[q.id] = Answer("Synthetic summary.")
    return answers


@st.composite
def generated_reviews(draw: st.DrawFn) -> dict[str, Any]:
    """5 to 60 cases: case types, teams, grades, N/A, alerts, moderation, second audits.

    The cases come from a drawn seed (so a failing example prints in a line or two).
    """
    types = [ct.id for ct in health_check().case_types]
    return {
        "size": draw(st.integers(min_value=5, max_value=60)),
        "types": draw(st.lists(st.sampled_from(types), min_size=1, max_size=4, unique=True)),
        "teams": draw(st.integers(min_value=1, max_value=6)),
        "seed": draw(st.integers(0, 10**6)),
        "lean": draw(st.sampled_from([0.5, 1.0, 2.0])),
        "na_rate": draw(st.sampled_from([0.0, 0.1, 0.3])),
        "good_rate": draw(st.sampled_from([0.5, 0.8, 0.95])),
        "unsafe_rate": draw(st.sampled_from([0.0, 0.05, 0.2])),
        "moderate": draw(st.integers(0, 4)),
        "second": draw(st.integers(0, 5)),
        "recorded": draw(st.booleans()),
        "threshold": draw(st.sampled_from([5, 5, 3, 10])),
    }


def cases_for(spec: dict[str, Any], rubric: Rubric) -> list[dict[str, Any]]:
    """Return the generated review's cases, from its seed."""
    rng = random.Random(spec["seed"])
    return [
        {
            "case_type": rng.choice(spec["types"]),
            "team": f"Team {chr(65 + rng.randrange(spec['teams']))}",
            "seed": rng.randrange(10**6),
            "unsafe": rng.random() < spec["unsafe_rate"],
        }
        for _ in range(spec["size"])
    ]


def make_generated(
    site: SimpleNamespace, spec: dict[str, Any], rubric: Rubric | None = None
) -> Any:
    """Create, audit, moderate and second-audit a generated review; return it."""
    db = site.db
    rubric = rubric or health_check()
    spec = {**spec, "cases": spec.get("cases") or cases_for(spec, rubric)}
    site.made[0] += 1
    lead, first, second = site.lead, *site.reviewers
    review = reviews.create(
        db,
        title=f"Generated review {site.made[0]}",
        host_organisation="Testshire Council",
        kind="thematic",
        rubric=rubric,
        start_date="2026-10-26",
        end_date="2026-10-30",
        by=lead.id,
        settings={"public_threshold": spec["threshold"]},
    )
    for person, role in ((lead, "lead"), (first, "reviewer"), (second, "reviewer")):
        reviews.add_member(db, review.id, person.id, role)
    start = date(2026, 10, 26)
    rows = []
    for i, case in enumerate(spec["cases"]):
        rng = random.Random(case["seed"])
        rows.append(
            {
                "reference": f"GEN-{i:04d}",
                "case_type": case["case_type"],
                "team": case["team"],
                "assigned_to": first.id,
                "dates": demo._case_dates(rng, case["case_type"], start),
            }
        )
    reviews.add_case_files(db, review.id, rows)
    critical = [q.id for q in rubric.critical_questions()]
    submitted = []
    for case, spec_case in zip(reviews.case_files(db, review.id), spec["cases"], strict=True):
        rng = random.Random(spec_case["seed"])
        answers = _answers(rubric, case["case_type"], rng, spec)
        if spec_case["unsafe"] and critical:
            answers[critical[0]] = Answer("no", evidence="Synthetic: escalated the same day.")
        audit_id = audits.start(db, case["id"], first.id)
        result = audits.save(
            db,
            audit_id,
            expected_version=1,
            answers=answers,
            sections_na=(),
            feedback={},
            adverse_questions=[q.id for q in adverse(rubric, case["case_type"], answers)],
            critical_questions=critical,
            by=first.id,
            submit=False,
        )
        if result.open_escalations and spec["recorded"]:
            for escalation in result.open_escalations:
                audits.record_escalation(
                    db,
                    escalation,
                    review.id,
                    told_who="Team manager",
                    told_at="2026-10-27T15:10:00Z",
                    agreed_action="Synthetic.",
                    by=first.id,
                )
        current = audits.get(db, audit_id)
        audits.save(
            db,
            audit_id,
            expected_version=current.version,
            answers=current.answers,
            sections_na=(),
            feedback={},
            adverse_questions=[],
            critical_questions=[],
            by=first.id,
            submit=True,
        )
        if audits.get(db, audit_id).status == "submitted":  # an unrecorded alert keeps it a draft
            submitted.append((case, audit_id, answers))
    levels = [level.id for level in rubric.scale.levels]
    overall = rubric.overall.question
    for _case, audit_id, answers in submitted[: spec["moderate"]]:
        changed = {}
        if overall and overall in answers:
            before = answers[overall].value
            after = levels[(levels.index(before) + 1) % len(levels)]
            changed[overall] = (before, after, "Synthetic moderation.")
        moderation.moderate(db, audit_id, review.id, changed=changed, note="Synthetic.", by=lead.id)
    chosen = [case["id"] for case, _, _ in submitted[: spec["second"]]]
    if chosen:
        audits.choose_second_audits(db, review.id, chosen, by=lead.id)
        for case, _audit_id, answers in submitted[: spec["second"]]:
            fresh = reviews.case_file(db, case["id"], review.id)
            second_id = audits.start(db, case["id"], fresh["second_assigned_to"], purpose="second")
            audits.save(
                db,
                second_id,
                expected_version=1,
                answers=answers,
                sections_na=(),
                feedback={},
                adverse_questions=[],
                critical_questions=[],
                by=fresh["second_assigned_to"],
                submit=True,
            )
    agg_review = reviews.get(db, review.id)
    from audit import analysis

    for suggestion in findings.suggest(analysis.aggregate(db, agg_review))[:4]:
        finding_data.add_from_suggestion(
            db, review.id, suggestion, status="accepted", text=suggestion.text, by=lead.id
        )
    return reviews.get(db, review.id)


EXAMPLES = int(os.environ.get("DISCLOSURE_EXAMPLES", "12"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=generated_reviews())
def test_no_withheld_count_can_be_narrowed_in_generated_reviews(
    site: SimpleNamespace, spec: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    review = make_generated(site, spec)
    folder = tmp_path_factory.mktemp("generated")
    result = attack_rendered(site.app, site.db, review, folder, pdf=site.made[0] % 3 == 1)
    event("withheld some" if result.withheld else "nothing withheld")
    event(f"left out {len(result.view.dropped)} parts")
    assert result.narrowed == []
    assert report.public_blockers(result.figures) == []  # the tool's words need no rewording
    assert result.view.cost().protected


def test_a_32_case_three_point_review_prints_its_cases_and_headline(
    site: SimpleNamespace, tmp_path: Path
) -> None:
    rubric = parse_rubric(THREE_POINT.read_text(encoding="utf-8"), source=str(THREE_POINT))
    rng = random.Random(32)
    spec = {
        "cases": [
            {
                "case_type": rng.choice(["care_leaver", "care_leaver", "cla"]),
                "team": rng.choice(["North", "South", "East", "West"]),
                "seed": rng.randint(0, 10_000),
                "unsafe": i == 7,
            }
            for i in range(32)
        ],
        "lean": 1.0,
        "na_rate": 0.1,
        "good_rate": 0.7,
        "moderate": 4,
        "second": 20,
        "recorded": True,
        "threshold": 5,
    }
    review = make_generated(site, spec, rubric)
    result = attack_rendered(site.app, site.db, review, tmp_path)
    assert result.narrowed == []
    text = attacker.visible(result.html)
    assert "32 case files were audited" in text
    headline = re.search(r"Cases judged adequate or better overall: ([^.]*\.)", text)
    assert headline and re.search(r"\b32 cases\)?\s*\.$", headline[1]), headline
    assert "[c] case files" not in text
    assert "fewer than 5 of the 32 cases audited a child was found" in text
    cost = result.view.cost()
    assert cost.protected and cost.withheld < cost.printed / 2, cost
    assert report.public_blockers(result.figures) == []


# --------------------------------------------------------------------------- words


def test_a_tool_suggestion_reads_fewer_than_five_and_the_leads_own_words_are_checked(
    tmp_path: Path,
) -> None:
    instance = tmp_path / "instance"
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True})
    db = connect(app.config["DATABASE"])
    demo.seed(db, app.extensions["rubric_library"], instance)
    review = reviews.find(db, demo.DEMO_TITLE)
    from audit import analysis

    critical = next(s for s in findings.suggest(analysis.aggregate(db, review)) if s.critical)
    assert "in 1 of 24 cases audited a child was found" in critical.text  # internal words
    finding_data.add_from_suggestion(
        db, review.id, critical, status="accepted", text=critical.text, by=None
    )
    figures = report.gather(app, db, review)
    assert report.public_blockers(figures) == []  # the tool's words need no rewording
    public = attacker.visible(report.build_html(app, db, review, audience="public"))
    assert "in fewer than 5 of the 24 cases audited a child was found" in public
    assert "in 1 of 24 cases" not in public
    internal = attacker.visible(report.build_html(app, db, review))
    assert "in 1 of 24 cases audited a child was found" in internal
    # The lead's own words: a count below 5 blocks; the threshold phrase does not.
    finding_data.add_own(
        db,
        review.id,
        kind="development",
        text="1 case(s) where a child was found not adequately safeguarded.",
        by=None,
    )
    blockers = report.public_blockers(report.gather(app, db, review))
    assert [[p.text for p in b.phrases] for b in blockers] == [["1 case(s)"]]
    assert blockers[0].phrases[0].suggestion == "write “fewer than 5 case(s)”"
    with pytest.raises(report.PublicBlocked, match=r"“1 case\(s\)”"):
        report.build_html(app, db, review, audience="public")
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
    assert result.exit_code != 0 and "1 case(s)" in result.output
    assert not (tmp_path / "p.pdf").exists()
    own = finding_data.for_review(db, review.id)[-1]
    finding_data.reword(
        db,
        review.id,
        own.id,
        text="In fewer than five cases a child was found not adequately "
        "safeguarded; each was escalated.",
        by=None,
    )
    assert report.public_blockers(report.gather(app, db, review)) == []
    db.conn.close()


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
