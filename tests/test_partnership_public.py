"""The public partnership report: every number accounted for, none that can be undone.

The attacker works as a reader with a solver would: from the rendered public HTML, PDF and
Word text it takes every numeral, checks that each is a count the partnership's disclosure
model defines (or a documented non-count: a date, a page number, the tool's version, the
interval's level), builds the reader's constraints from what is printed and what a careful
reader knows, and solves for each withheld count's smallest and largest value (HiGHS). No
withheld small count may be narrowed to fewer than three values, no complementary count
pinned. It runs on every demo partnership audit and on generated ones.
"""

from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import create_app, demo
from audit.cli import main
from audit.data import findings as finding_data
from audit.data import panels, reviews
from audit.data.db import connect
from audit.partnership import analysis, public
from audit.partnership import report as partnership_report
from audit.partnership.figures import Inputs, gather
from audit.reporting import disclosure, report_docx
from audit.reporting import report as findings_report
from audit.rubric import agency_part, panel_part
from audit.scoring import Answer, applicable
from tests import attacker
from tests.partnership_helpers import multi_agency_rubric

AGENCIES = ("childrens_social_care", "police", "health_visiting", "education")
NAMES = {
    "childrens_social_care": "Children's social care",
    "police": "Police",
    "health_visiting": "Health visiting",
    "education": "Education",
}
CASE_TYPES = ("early_help", "cin", "cp", "cla")


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The demo instance, with its multi-agency audits."""
    instance = Path(tmp_path_factory.mktemp("partnership-public")) / "instance"
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True})
    db = connect(app.config["DATABASE"])
    demo.seed(db, app.extensions["rubric_library"], instance)
    multi = [
        reviews.get(db, row[0])
        for row in db.execute("SELECT id FROM review ORDER BY title").fetchall()
    ]
    multi = [r for r in multi if any(s.agencies for s in r.rubric.sections)]
    assert len(multi) >= 2
    return SimpleNamespace(app=app, db=db, reviews=multi, instance=instance)


def _verbatim(review: Any, f: Any, context: dict[str, Any]) -> list[str]:
    """Words the report repeats as they are (names, the tool's text, the lead's summary)."""
    words = [review.title, review.host_organisation, f.rubric.title, *context["leads"]]
    words += [name for _id, name in f.agencies]
    words += [s.title for s in f.rubric.sections]
    words += [name for _id, name, _key in f.themes]
    words += context["summary"]
    return words


def attack_rendered(app: Any, db: Any, review: Any, folder: Path) -> SimpleNamespace:
    """Render the public partnership report, account for every numeral, and attack it."""
    context = partnership_report.report_context(app, db, review, audience="public")
    view = context["view"]
    assert isinstance(view, public.PublicView)
    html = partnership_report.build_html(app, db, review, context=context)
    printed = list(view.view.printed)
    f = view.figures
    words = _verbatim(review, f, context)
    found = attacker.numerals(attacker.strip(attacker.body(html), words))
    extra = attacker.unaccounted(found, attacker.ledger_numerals(printed))
    assert not extra, f"numbers the model does not know: {dict(extra)}"
    allowed = attacker.numerals(attacker.body(html))
    pdf = attacker.pdf_text(findings_report.render_pdf(html, title="t", author="a"), folder)
    furniture = {review.title, findings_report.marking_for(app, "public")}
    pdf = "\n".join(
        line
        for line in pdf.splitlines()
        if line.strip() not in furniture and not re.fullmatch(r"Page \d+ of \d+", line.strip())
    )
    pdf = re.sub(r"(?m)^.*(?: \.){3,}.*$", " ", pdf)  # the contents' page numbers
    assert not attacker.unaccounted(attacker.numerals(pdf), allowed), "numbers in the PDF only"
    docx, _alts = attacker.docx_text(report_docx.html_to_docx(html, title="t", author="a"))
    docx = re.sub(r"Page \d+(?: of \d+)?", " ", docx)
    assert not attacker.unaccounted(attacker.numerals(docx), allowed), "numbers in Word only"
    narrowed = attacker.attack(view.view.model, printed, view.view.threshold)
    return SimpleNamespace(html=html, pdf=pdf, docx=docx, view=view, narrowed=narrowed)


def test_every_demo_partnership_audit_has_a_public_version_nobody_can_undo(
    demo_site: SimpleNamespace, tmp_path: Path
) -> None:
    for review in demo_site.reviews:
        result = attack_rendered(demo_site.app, demo_site.db, review, tmp_path)
        assert result.narrowed == [], (review.title, result.narrowed)
        cost = result.view.view.cost()
        assert cost.protected and cost.withheld > 0
        # It says what it withheld, in the report itself.
        assert f"withholds {cost.withheld} of the {cost.printed} counts" in result.pdf
        assert "<5" in result.pdf
        # Nothing about one child: no pseudonym, no learning's or action's words.
        for case in reviews.case_files(demo_site.db, review.id):
            assert case["pseudonym"] not in result.html
        for item in panels.learning(demo_site.db, review.id):
            assert item["text"] not in result.html


def test_the_demo_public_version_prints_the_children_and_the_panels_headline(
    demo_site: SimpleNamespace, tmp_path: Path
) -> None:
    spring = next(r for r in demo_site.reviews if "spring" in r.title)
    result = attack_rendered(demo_site.app, demo_site.db, spring, tmp_path)
    children = result.view.figures.count("children")
    assert children >= 5
    text = " ".join(result.pdf.split())
    assert f"{children} children known to several agencies were chosen" in text
    held = result.view.figures.panel.overall_good.proportion
    assert f"{held.count} of {held.n} children)" in text  # the headline share, with its n


def test_without_complementary_suppression_the_attacker_narrows_a_small_count(
    demo_site: SimpleNamespace,
) -> None:
    """The attacker is not a formality: withholding only the small counts gives them away."""
    gave_away = []
    for review in demo_site.reviews:
        f = analysis.figures(demo_site.db, review)
        model = public.define(f)
        small = {
            key: disclosure.PRIMARY
            for key, cell in model.cells.items()
            if cell.sensitive and 0 < cell.value < 5
        }
        naive = public.PublicView(f, disclosure.View(model, threshold=5, status=small))
        _write(f, naive, review)
        gave_away += attacker.attack(model, naive.view.printed, 5)
    assert gave_away


def test_the_summary_is_checked_and_threshold_phrases_pass(
    demo_site: SimpleNamespace, tmp_path: Path
) -> None:
    app, db = demo_site.app, demo_site.db
    autumn = next(r for r in demo_site.reviews if "autumn" in r.title)
    lead = db.execute(
        "SELECT user_id FROM review_member WHERE review_id = ? AND role = 'lead'", [autumn.id]
    ).fetchone()[0]
    finding_data.set_executive_summary(
        db,
        autumn.id,
        "Police found a child not adequately safeguarded and the case was escalated.",
        by=lead,
    )
    with pytest.raises(findings_report.PublicBlocked, match="plural"):
        partnership_report.render_pdf(app, db, reviews.get(db, autumn.id), "public")
    finding_data.set_executive_summary(
        db,
        autumn.id,
        "Where agencies found children not adequately safeguarded (fewer than five), their"
        " cases were escalated the same day.",
        by=lead,
    )
    pdf = partnership_report.render_pdf(app, db, reviews.get(db, autumn.id), "public")
    assert pdf.startswith(b"%PDF")
    finding_data.set_executive_summary(db, autumn.id, "", by=lead)


def test_the_command_line_writes_the_partnership_report_both_versions(
    demo_site: SimpleNamespace, tmp_path: Path
) -> None:
    spring = next(r for r in demo_site.reviews if "spring" in r.title)
    for flags, audience in (((), "Internal report"), (("--public",), "Public report")):
        for ext in ("pdf", "docx"):
            out = tmp_path / f"partnership.{ext}"
            args = ["report", "--instance", str(demo_site.instance), spring.id, "-o", str(out)]
            result = CliRunner().invoke(main, [*args, *flags])
            assert result.exit_code == 0, result.output
            if ext == "pdf":
                text = attacker.pdf_text(out.read_bytes(), tmp_path)
            else:
                text, _alts = attacker.docx_text(out.read_bytes())
            assert audience in text and "Multi-agency case audit: partnership report" in text
            assert ("Appendix: the children" in text) is (audience == "Internal report")


# --------------------------------------------------------------------------- generated


def _write(f: Any, view: Any, review: Any) -> None:
    """Write every chapter through ``view`` (its printed ledger is what a reader sees)."""
    facts = {
        "review": review,
        "leads": [],
        "now": None,
        "names": NAMES,
        "order": {a: i for i, a in enumerate(AGENCIES)},
        "learning": [],
        "actions": [],
        "children": [],
        "trend": [],
    }
    for chapter in partnership_report.CHAPTERS[1:]:  # the cover prints no count
        chapter(facts, f, view)


def _answers(part: Any, case_type: str, rng: random.Random, good: float) -> dict[str, Answer]:
    levels = [level.id for level in part.scale.levels]
    out = {}
    for _section, questions in applicable(part, case_type):
        for q in questions:
            if q.allow_na and rng.random() < 0.15:
                out[q.id] = Answer(None, True, "")
            elif q.type == "grade":
                top = rng.random() < good
                out[q.id] = Answer(rng.choice(levels[:2] if top else levels[2:]), False, "")
            elif q.type == "yes_no":
                out[q.id] = Answer("yes" if rng.random() < good else "no", False, "")
            else:
                out[q.id] = Answer("Synthetic.", False, "")
    return out


@st.composite
def generated_inputs(draw: st.DrawFn) -> Inputs:
    rubric = multi_agency_rubric()
    rng = random.Random(draw(st.integers(0, 10_000)))
    size = draw(st.integers(3, 14))
    involved = draw(st.lists(st.sampled_from(AGENCIES), min_size=2, max_size=4, unique=True))
    good = draw(st.floats(0.2, 0.95))
    held_rate = draw(st.floats(0.0, 1.0))
    cases, known, audits, panels, alerts, learning, actions = [], {}, [], [], [], [], []
    for n in range(size):
        case_id = f"c{n}"
        case_type = rng.choice(CASE_TYPES)
        cases.append({"id": case_id, "pseudonym": f"Child {n}", "case_type": case_type})
        mine = [a for a in involved if rng.random() < 0.7] or [involved[0]]
        known[case_id] = {a: f"{a}-{n}" for a in mine}
        for agency in mine:
            if rng.random() < 0.85:
                answers = _answers(agency_part(rubric, agency), case_type, rng, good)
                audits.append(
                    {
                        "case_id": case_id,
                        "agency_id": agency,
                        "status": "submitted",
                        "sections_na": frozenset(),
                        "answers": answers,
                    }
                )
            if rng.random() < 0.1:
                alerts.append(
                    {
                        "id": f"a{n}{agency}",
                        "case_id": case_id,
                        "agency_id": agency,
                        "withdrawn_at": None,
                        "recorded_at": "2026-10-01" if rng.random() < 0.5 else None,
                    }
                )
        if rng.random() < held_rate:
            answers = _answers(panel_part(rubric), case_type, rng, good)
            panels.append({"case_id": case_id, "agreed_at": "2026-10-20", "answers": answers})
            for t in range(rng.randint(0, 2)):
                theme = rng.choice(
                    [("t1", "Neglect recognised late"), ("t2", "Voice of the child")]
                )
                learning.append({"id": f"l{n}{t}", "case_id": case_id, "themes": [theme]})
            if rng.random() < 0.4:
                actions.append(
                    {
                        "id": f"x{n}",
                        "case_id": case_id,
                        "agency_id": rng.choice(mine),
                        "status": rng.choice(["not_started", "in_progress", "done"]),
                        "due_date": rng.choice(["2026-09-01", "2027-03-01"]),
                    }
                )
        elif rng.random() < 0.5:
            panels.append({"case_id": case_id, "agreed_at": None, "answers": {}})
    return Inputs(
        rubric=rubric,
        cases=cases,
        case_agencies=known,
        agency_audits=audits,
        panels=panels,
        alerts=alerts,
        learning=learning,
        actions=actions,
        agency_names=NAMES,
        agency_order=list(AGENCIES),
        today=date(2026, 12, 5),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs=generated_inputs(), threshold=st.sampled_from([3, 5, 10]))
def test_no_withheld_count_can_be_narrowed_in_generated_partnership_audits(
    inputs: Inputs, threshold: int
) -> None:
    f = gather(inputs)
    view = public.protected(f, threshold)
    review = SimpleNamespace(title="Generated", status="complete", start_date=None, end_date=None)
    _write(f, view, review)
    assert attacker.attack(view.view.model, view.view.printed, threshold) == []
    cost = view.view.cost()
    assert cost.protected
    # The public version is always made, and a count printed is the count the figures hold.
    for item in view.view.printed:
        if item.key in f.counts and item.text.isdigit():
            assert int(item.text) == f.count(item.key)
