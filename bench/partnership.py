"""How long the public partnership report's protection takes, as a partnership grows.

A themed multi-agency audit draws a handful of children (six to twelve); a partnership that
audits monthly might pool more. For each size this builds a synthetic partnership audit
(every agency of the shipped tool, most children known to most agencies, most panels held,
learning themes and actions), then times defining its disclosure model
(``audit.partnership.public.define``) and protecting it (``protection.protect``: primary
suppression, the exact attacker, complementary suppression; never the in-process cache),
median of ``--repeat`` runs.
Prints one line per size. No target is set by the issue; the figures go in
docs/benchmarks.md.

    .venv/bin/python bench/partnership.py [--sizes 6,12,30,60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date
from pathlib import Path

from audit.partnership import public
from audit.partnership.figures import Inputs, gather
from audit.reporting import protection
from audit.rubric import agency_part, load_rubric_file, panel_part
from audit.scoring import Answer, applicable

RUBRIC = Path(__file__).resolve().parent.parent / "rubrics" / "multi-agency-case-audit.yaml"
AGENCIES = {
    "childrens_social_care": "Children's social care",
    "police": "Police",
    "health_visiting": "Health visiting",
    "education": "Education",
}
CASE_TYPES = ("early_help", "cin", "cp", "cla")


def _answers(part: object, case_type: str, rng: random.Random) -> dict[str, Answer]:
    levels = [level.id for level in part.scale.levels]  # type: ignore[attr-defined]
    out = {}
    for _section, questions in applicable(part, case_type):  # type: ignore[arg-type]
        for q in questions:
            if q.type == "grade":
                out[q.id] = Answer(rng.choice(levels[:3]), False, "")
            elif q.type == "yes_no":
                out[q.id] = Answer(rng.choice(["yes", "yes", "no"]), False, "")
            else:
                out[q.id] = Answer("Synthetic.", False, "")
    return out


def synthetic(size: int, seed: int = 19) -> Inputs:
    """A synthetic partnership audit of ``size`` children."""
    rubric = load_rubric_file(RUBRIC)
    rng = random.Random(seed)
    cases, known, audits, panels, alerts, learning, actions = [], {}, [], [], [], [], []
    for n in range(size):
        case_id, case_type = f"c{n}", rng.choice(CASE_TYPES)
        cases.append({"id": case_id, "pseudonym": f"Child {n}", "case_type": case_type})
        mine = [a for a in AGENCIES if rng.random() < 0.75] or ["childrens_social_care"]
        known[case_id] = {a: f"{a}-{n}" for a in mine}
        for agency in mine:
            audits.append(
                {
                    "case_id": case_id,
                    "agency_id": agency,
                    "status": "submitted",
                    "sections_na": frozenset(),
                    "answers": _answers(agency_part(rubric, agency), case_type, rng),
                }
            )
        if rng.random() < 0.05:
            alerts.append(
                {
                    "id": f"a{n}",
                    "case_id": case_id,
                    "agency_id": mine[0],
                    "withdrawn_at": None,
                    "recorded_at": "2026-10-01",
                }
            )
        if rng.random() < 0.8:
            answers = _answers(panel_part(rubric), case_type, rng)
            panels.append({"case_id": case_id, "agreed_at": "2026-10-20", "answers": answers})
            theme = rng.choice([("t1", "Neglect recognised late"), ("t2", "Voice of the child")])
            learning.append({"id": f"l{n}", "case_id": case_id, "themes": [theme]})
            actions.append(
                {
                    "id": f"x{n}",
                    "case_id": case_id,
                    "agency_id": rng.choice(mine),
                    "status": rng.choice(["not_started", "in_progress", "done"]),
                    "due_date": "2027-03-01",
                }
            )
    return Inputs(
        rubric=rubric, cases=cases, case_agencies=known, agency_audits=audits, panels=panels,
        alerts=alerts, learning=learning, actions=actions, agency_names=AGENCIES,
        agency_order=list(AGENCIES), today=date(2026, 12, 5),
    )  # fmt: skip


def main() -> None:
    """Time defining and protecting the public model for each size; print a line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="6,12,30,60")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        figures = gather(synthetic(size))
        defining, protecting = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            model = public.define(figures)
            middle = time.perf_counter()
            protection.protect(model, 5)  # never the in-process cache
            end = time.perf_counter()
            defining.append(middle - start)
            protecting.append(end - middle)
        view = model.protect(5)
        cost = view.cost()
        print(
            f"{size:>3} children: defining the model {statistics.median(defining):.3f} s,"
            f" protecting it {statistics.median(protecting):.3f} s;"
            f" {model.size} inner cells, {cost.withheld} of {cost.printed} counts withheld"
            f" ({cost.primary} below 5), parts left out: {len(cost.left_out)},"
            f" attacker's verdict: {'protected' if cost.protected else 'NOT PROTECTED'}"
        )


if __name__ == "__main__":
    main()
