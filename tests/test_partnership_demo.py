"""The demo's partnership audit on neglect: six children, four agencies, four panels held."""

from __future__ import annotations

from pathlib import Path

from audit.data import agency_audits, panels, programmes, reviews
from audit.data.db import connect
from audit.demo import read_credentials
from audit.instance import open_instance, rubric_library
from audit.partnership import analysis, is_multi_agency
from audit.partnership import demo as partnership_demo


def test_the_demo_has_a_partnership_audit_on_neglect(tmp_path: Path) -> None:
    from audit.demo import seed

    instance, settings = open_instance({"INSTANCE_PATH": tmp_path / "instance"})
    db = connect(settings["DATABASE"])
    seed(db, rubric_library(instance), instance)
    logins = {c.username for c in read_credentials(instance)}
    assert {"social1", "police1", "health1", "school1"} <= logins
    found = [r for r in reviews.all_reviews(db) if is_multi_agency(r)]
    assert {r.title for r in found} == {partnership_demo.EARLIER_TITLE, partnership_demo.TITLE}
    # The peer review stays the newest review, first in every list.
    assert reviews.all_reviews(db)[0].title == "Example Borough peer safeguarding health check"
    review = next(r for r in found if r.title == partnership_demo.TITLE)
    children = reviews.case_files(db, review.id)
    known = agency_audits.case_agencies(db, review.id)
    assert len(children) == 6
    assert set().union(*known.values()) == {
        "childrens_social_care",
        "police",
        "health_visiting",
        "education",
    }
    audits = agency_audits.for_review(db, review.id)
    assert len(audits) == sum(len(k) for k in known.values())  # every agency has its audit in
    assert [a.agency_id for a in audits if not a.submitted] == ["education"]  # one still to come
    held = [p for p in panels.for_review(db, review.id) if p.held]
    assert len(held) == 4
    learning = panels.learning(db, review.id)
    assert learning and all(item["themes"] for item in learning)
    actions = panels.actions(db, review.id)
    assert {a["agency_id"] for a in actions} == {
        "childrens_social_care",
        "police",
        "health_visiting",
        "education",
    }
    assert all(a["due_date"] for a in actions) and any(a["overdue"] for a in actions)
    (alert,) = agency_audits.escalations(db, review.id)
    assert alert["agency_id"] == "police" and alert["recorded_at"]
    figures = analysis.figures(db, review)
    assert figures.count("panel/children") == 4
    assert figures.count("safety/any_agency/not_safe") == 1
    assert figures.count("alerts/recorded") == figures.count("alerts/raised") == 1
    trend = analysis.trend(db, review)
    assert trend and all(len(series.points) == 2 for series in trend)
    assert review.programme_id in {p["id"] for p in programmes.all_programmes(db)}
    db.conn.close()
