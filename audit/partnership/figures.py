"""Every figure of a multi-agency review, gathered once: partnership-wide, per agency, compared.

The figures rest on records, one per child, party, measure and answer (:class:`Cell`): a
party is an agency (its submitted audit of the child) or the panel (its agreed answers, once
the panel is held); a measure is a question of the rubric, or something worked out from a
child's answers the way the findings do it (the overall judgement, a section's checks, how
far an agency's grade is from the panel's, ...). Every printed count is a :class:`Count`:
a key, a definition in words and the set of cells it counts, so its value is the number of
its cells. The pages, the findings JSON and the partnership report all read counts from
here, and a share is always worked out from two counts, with the interval its unit calls
for (:mod:`audit.stats`): Wilson for children, the clustered interval for answers pooled
over children. A later disclosure model can take the same cells and counts as they are.

The keys, ``<party>`` being an agency id or ``panel``:

- ``children``; ``known/<agency>``; ``<party>/children`` (audits submitted, panels held);
  ``panels/open``;
- ``<party>/q/<question>/value/<value>`` (``na`` for not applicable), ``/answered``, ``/good``;
- ``<party>/overall/value/<level>``, ``/judged``, ``/good``;
- ``<party>/section/<section>/good``, ``/judged`` (children), ``/answers/good``,
  ``/answers/answered`` (answers), for a section without a grade;
- ``agencies/q/<question>/good``, ``/answered``: every agency's own answers, pooled (answers);
- ``compare/<agency>/<question or grades>/pairs``, ``/same``, ``/higher``, ``/lower`` (answers);
- ``safety/panel/not_safe``, ``safety/<agency>/not_safe``, ``safety/any_agency/not_safe``,
  ``alerts/raised``, ``alerts/recorded`` (alerts), ``alerts/children``;
- ``learning/items``, ``learning/theme/<theme id>``; ``actions/<agency>/all``, ``/open``,
  ``/overdue``, ``/done`` (actions).

Measures that are not a question: ``audited``, ``known``, ``overall``, ``section:<id>``,
``compare:<question>`` (the agency's grade minus the panel's in scale steps, or same/differs),
``not_safe``, ``alert:<id>``, ``alerted``, ``learning:<id>``, ``theme:<id>``,
``action:<id>``, ``panel``, ``in_review``. A party ``any_agency`` stands for "at least one
agency", so that a child counts once however many agencies said so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from audit.findings import percent, threshold_label
from audit.rubric import NOT_APPLICABLE, PANEL, Question, Rubric, Section, agency_part, panel_part
from audit.rubric.agency_parts import compared_questions
from audit.scoring import Answer, allowed_values, applicable
from audit.stats import Proportion, clustered_share, wilson

ANY_AGENCY = "any_agency"
"""A derived party: "at least one agency", so a child counts once however many agencies said it."""
POOLED = "agencies"
"""The agencies' own answers pooled (a share of answers, clustered by child)."""

UNIT_WORDS = {"cases": "children", "answers": "answers"}


@dataclass(frozen=True, order=True)
class Cell:
    """One record a count is made of: a child (case id), a party, a measure and its answer."""

    case: str
    party: str
    measure: str
    answer: str


@dataclass(frozen=True)
class Count:
    """A printed count: what it counts in words, its unit, and the records it counts."""

    key: str
    definition: str
    unit: str
    cells: frozenset[Cell]

    @property
    def value(self) -> int:
        """The count is the number of its records."""
        return len(self.cells)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able form (the records themselves stay inside the app)."""
        return {
            "key": self.key,
            "value": self.value,
            "unit": self.unit,
            "definition": self.definition,
        }


@dataclass(frozen=True)
class Share:
    """A share worked out from two counts, with its interval."""

    good: str
    n: str
    proportion: Proportion

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able form naming the two counts."""
        return {"count_key": self.good, "n_key": self.n, **self.proportion.as_dict()}


@dataclass(frozen=True)
class QuestionRow:
    """One question's answers by one party: a count per answer, and the share good."""

    question: Question
    values: tuple[tuple[str, str], ...]  # (label, count key), scale or yes/no order
    not_applicable: str
    answered: str
    good: Share | None


@dataclass(frozen=True)
class SectionRow:
    """One section of a party's part: its questions, and its result in children."""

    section: Section
    basis: str  # "grade" (its grade question), "checks" (every yes/no check met), "none"
    questions: tuple[QuestionRow, ...]
    cases: Share | None
    answers: Share | None = None


@dataclass(frozen=True)
class PartyResults:
    """One party's figures: an agency from its own audits, or the panel's agreed answers."""

    party: str
    name: str
    children: str  # count key: children counted
    overall: tuple[tuple[str, str], ...]  # (level label, count key)
    overall_good: Share | None
    sections: tuple[SectionRow, ...]


@dataclass(frozen=True)
class Comparison:
    """How one agency's answers to one question compare with the panel's for the same children."""

    agency: str
    question: Question | None  # None: every compared grade question together
    pairs: str
    same: str
    higher: str | None  # grades: the agency graded more generously than the panel
    lower: str | None
    mean_steps: float | None
    agreement: Share | None


@dataclass
class PartnershipFigures:
    """Every count of one multi-agency review and the tables built from them."""

    rubric: Rubric
    agencies: tuple[tuple[str, str], ...]  # (id, name) of the agencies that know any child
    cells: frozenset[Cell]
    counts: dict[str, Count]
    panel: PartyResults
    by_agency: dict[str, PartyResults]
    pooled: tuple[tuple[Question, Share], ...]
    comparisons: dict[str, tuple[Comparison, ...]]
    themes: tuple[tuple[str, str, str], ...]  # (theme id, name, count key), most children first
    threshold: str
    extra: dict[str, Any] = field(default_factory=dict)

    def count(self, key: str) -> int:
        """Return a count's value (KeyError for a key never registered: a bug, not a zero)."""
        return self.counts[key].value

    def as_dict(self) -> dict[str, Any]:
        """Return the figures as JSON-able values: every count with its definition, every share."""
        return {
            "agencies": [{"id": a, "name": n} for a, n in self.agencies],
            "counts": {k: c.as_dict() for k, c in sorted(self.counts.items())},
            "panel": _party_dict(self.panel),
            "by_agency": {a: _party_dict(r) for a, r in self.by_agency.items()},
            "pooled": [{"question_id": q.id, **s.as_dict()} for q, s in self.pooled],
            "comparisons": {
                a: [_comparison_dict(c) for c in rows] for a, rows in self.comparisons.items()
            },
            "themes": [{"theme_id": t, "name": n, "count_key": k} for t, n, k in self.themes],
        }


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """Everything the figures are made from, as the data layer reads it."""

    rubric: Rubric
    cases: Sequence[Mapping[str, Any]]  # id, pseudonym, case_type
    case_agencies: Mapping[str, Mapping[str, str]]  # case id -> agency id -> reference
    agency_audits: Sequence[Mapping[str, Any]]  # case_id, agency_id, status, sections_na, answers
    panels: Sequence[Mapping[str, Any]]  # case_id, agreed_at, answers
    alerts: Sequence[Mapping[str, Any]]  # id, case_id, agency_id, withdrawn_at, recorded_at
    learning: Sequence[Mapping[str, Any]]  # id, case_id, themes [(id, name)]
    actions: Sequence[Mapping[str, Any]]  # id, case_id, agency_id, status, due_date
    agency_names: Mapping[str, str]
    agency_order: Sequence[str] = ()
    today: date = field(default_factory=date.today)


# --------------------------------------------------------------------------- gathering


class _Registry:
    """Collects cells and registers counts over them."""

    def __init__(self) -> None:
        self.cells: set[Cell] = set()
        self.counts: dict[str, Count] = {}

    def add(self, key: str, definition: str, cells: Iterable[Cell], unit: str = "cases") -> str:
        chosen = frozenset(cells)
        self.cells |= chosen
        if key in self.counts:
            raise ValueError(f"count {key!r} registered twice")
        self.counts[key] = Count(key, definition, unit, chosen)
        return key

    def share(self, good: str, n: str) -> Share:
        counted, total = self.counts[good], self.counts[n]
        if total.unit == "answers":
            per_case: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for cell in total.cells:
                per_case[cell.case][1] += 1
            for cell in counted.cells:
                per_case[cell.case][0] += 1
            proportion = clustered_share((g, m) for g, m in per_case.values())
        else:
            proportion = wilson(counted.value, total.value)
        return Share(good, n, proportion)


def _valid(question: Question, rubric: Rubric, answer: Answer | None) -> str | None:
    """Return the answer's value if the rubric allows it (a value it does not is left out)."""
    if answer is None or not answer.answered or question.type == "text":
        return None
    value = answer.effective
    return value if value in allowed_values(question, rubric) else None


def _values(question: Question, rubric: Rubric) -> list[tuple[str, str]]:
    if question.type == "grade":
        return [(level.id, level.label) for level in rubric.scale.levels]
    return [("yes", "Yes"), ("no", "No")]


def _good(question: Question, rubric: Rubric, value: str) -> bool:
    return bool(question.is_good(value, rubric.scale))


def _party_cells(
    part: Rubric, party: str, units: Sequence[tuple[str, str, frozenset[str], Mapping[str, Answer]]]
) -> set[Cell]:
    """Return a party's cells from its counted units (case, case type, sections N/A, answers).

    Cells: each valid answer (N/A as "na"), the overall judgement ("overall"), each ungraded
    section's checks as one result per child ("section:<id>": good, not_good or na), and
    "audited" once per child.
    """
    cells: set[Cell] = set()
    for case_id, case_type, sections_na, answers in units:
        cells.add(Cell(case_id, party, "audited", "yes"))
        grades: dict[str, str] = {}
        for section, questions in applicable(part, case_type):
            scored = [q for q in questions if q.type != "text"]
            if section.id in sections_na:
                cells.update(Cell(case_id, party, q.id, NOT_APPLICABLE) for q in scored)
                if not section.grade_question and any(q.type == "yes_no" for q in scored):
                    cells.add(Cell(case_id, party, f"section:{section.id}", NOT_APPLICABLE))
                continue
            checks: list[bool] = []
            checks_na = False
            for question in scored:
                value = _valid(question, part, answers.get(question.id))
                if value is None:
                    continue
                cells.add(Cell(case_id, party, question.id, value))
                if question.type == "grade" and value != NOT_APPLICABLE:
                    grades[question.id] = value
                if question.type == "yes_no":
                    if value == NOT_APPLICABLE:
                        checks_na = True
                    else:
                        checks.append(_good(question, part, value))
            if not section.grade_question and any(q.type == "yes_no" for q in scored):
                if checks:
                    outcome = "good" if all(checks) else "not_good"
                    cells.add(Cell(case_id, party, f"section:{section.id}", outcome))
                elif checks_na:
                    cells.add(Cell(case_id, party, f"section:{section.id}", NOT_APPLICABLE))
        level = part.overall.judge(grades, part)
        if level is not None:
            cells.add(Cell(case_id, party, "overall", level))
    return cells


def _register_party(
    reg: _Registry, part: Rubric, party: str, name: str, cells: set[Cell]
) -> PartyResults:
    """Register a party's counts and return its tables."""
    mine = [c for c in cells if c.party == party]
    by_measure: dict[str, list[Cell]] = defaultdict(list)
    for cell in mine:
        by_measure[cell.measure].append(cell)

    def where(measure: str, answers: Iterable[str] | None = None) -> list[Cell]:
        wanted = None if answers is None else set(answers)
        return [c for c in by_measure[measure] if wanted is None or c.answer in wanted]

    children = reg.add(
        f"{party}/children",
        f"children counted for {name}: "
        + ("panels held" if party == PANEL else f"{name}'s audits submitted"),
        where("audited"),
    )
    sections = []
    rows_by_question: dict[str, QuestionRow] = {}
    for section in part.sections:
        rows = []
        for question in section.questions:
            if question.type == "text":
                continue
            values = []
            for value, label in _values(question, part):
                key = reg.add(
                    f"{party}/q/{question.id}/value/{value}",
                    f"{name}: children whose answer to {question.id} was {value}",
                    where(question.id, [value]),
                )
                values.append((label, key))
            na = reg.add(
                f"{party}/q/{question.id}/value/na",
                f"{name}: children for whom {question.id} was not applicable",
                where(question.id, [NOT_APPLICABLE]),
            )
            answered = reg.add(
                f"{party}/q/{question.id}/answered",
                f"{name}: children with an answer to {question.id} other than not applicable",
                [c for c in where(question.id) if c.answer != NOT_APPLICABLE],
            )
            good_values = [v for v, _ in _values(question, part) if _good(question, part, v)]
            good = None
            if good_values:
                reg.add(
                    f"{party}/q/{question.id}/good",
                    f"{name}: children whose answer to {question.id} was good practice"
                    f" ({', '.join(good_values)})",
                    where(question.id, good_values),
                )
                good = reg.share(f"{party}/q/{question.id}/good", answered)
            row = QuestionRow(question, tuple(values), na, answered, good)
            rows.append(row)
            rows_by_question[question.id] = row
        basis, cases, answers_share = "none", None, None
        if section.grade_question and section.grade_question in rows_by_question:
            basis, cases = "grade", rows_by_question[section.grade_question].good
        elif any(q.type == "yes_no" for q in section.questions):
            basis = "checks"
            measure = f"section:{section.id}"
            reg.add(
                f"{party}/section/{section.id}/good",
                f"{name}: children for whom every yes/no check of {section.id} answered had"
                " the good answer",
                where(measure, ["good"]),
            )
            judged = reg.add(
                f"{party}/section/{section.id}/judged",
                f"{name}: children with at least one yes/no check of {section.id} answered",
                where(measure, ["good", "not_good"]),
            )
            cases = reg.share(f"{party}/section/{section.id}/good", judged)
            checks = [q for q in section.questions if q.type == "yes_no"]
            check_ids = {q.id for q in checks}
            answered_checks = [
                c for c in mine if c.measure in check_ids and c.answer != NOT_APPLICABLE
            ]
            reg.add(
                f"{party}/section/{section.id}/answers/good",
                f"{name}: answers to the yes/no checks of {section.id} that were good practice",
                [c for c in answered_checks if _good(part.question(c.measure), part, c.answer)],
                unit="answers",
            )
            total = reg.add(
                f"{party}/section/{section.id}/answers/answered",
                f"{name}: answers to the yes/no checks of {section.id}, not applicable aside",
                answered_checks,
                unit="answers",
            )
            answers_share = reg.share(f"{party}/section/{section.id}/answers/good", total)
        sections.append(SectionRow(section, basis, tuple(rows), cases, answers_share))
    overall_rows = []
    for level in part.scale.levels:
        overall_rows.append(
            (
                level.label,
                reg.add(
                    f"{party}/overall/value/{level.id}",
                    f"{name}: children judged {level.id} overall",
                    where("overall", [level.id]),
                ),
            )
        )
    judged = reg.add(
        f"{party}/overall/judged",
        f"{name}: children with an overall judgement",
        where("overall"),
    )
    good_ids = [lv.id for lv in part.scale.levels if part.scale.is_good(lv.id)]
    reg.add(
        f"{party}/overall/good",
        f"{name}: children judged {' or '.join(good_ids)} overall",
        where("overall", good_ids),
    )
    return PartyResults(
        party,
        name,
        children,
        tuple(overall_rows),
        reg.share(f"{party}/overall/good", judged),
        tuple(sections),
    )


def _steps(rubric: Rubric, value: str) -> int:
    """Return a grade's place counted from the bottom of the scale (higher is better)."""
    ids = [level.id for level in rubric.scale.levels]
    return len(ids) - 1 - ids.index(value)


def _compare(
    reg: _Registry, rubric: Rubric, agency: str, name: str, cells: set[Cell]
) -> tuple[Comparison, ...]:
    """Register how an agency's own answers compare with the panel's, question by question."""
    panel = {(c.case, c.measure): c.answer for c in cells if c.party == PANEL}
    own = {(c.case, c.measure): c.answer for c in cells if c.party == agency}
    rows: list[Comparison] = []
    graded: list[Cell] = []
    for question_id in compared_questions(rubric):
        question = rubric.question(question_id)
        if question.type == "text":
            continue
        derived = []
        for (case_id, measure), value in sorted(own.items()):
            agreed = panel.get((case_id, measure))
            if measure != question_id or agreed is None:
                continue
            if NOT_APPLICABLE in (value, agreed):
                answer = "same" if value == agreed else "differs"
            elif question.type == "grade":
                answer = f"{_steps(rubric, value) - _steps(rubric, agreed):+d}"
            else:
                answer = "same" if value == agreed else "differs"
            derived.append(Cell(case_id, agency, f"compare:{question_id}", answer))
        if not derived:
            continue
        rows.append(_comparison(reg, rubric, agency, name, question, derived))
        if question.type == "grade":
            graded.extend(c for c in derived if c.answer not in ("same", "differs"))
    if graded:
        rows.insert(0, _comparison(reg, rubric, agency, name, None, graded))
    return tuple(rows)


def _comparison(
    reg: _Registry,
    rubric: Rubric,
    agency: str,
    name: str,
    question: Question | None,
    derived: list[Cell],
) -> Comparison:
    what = question.id if question else "every graded question the panel agreed"
    stem = f"compare/{agency}/{question.id if question else 'grades'}"
    pairs = reg.add(
        f"{stem}/pairs",
        f"answers of {name} to {what} for children whose panel agreed an answer too",
        derived,
        unit="answers",
    )
    same = reg.add(
        f"{stem}/same",
        f"answers of {name} to {what} the same as the panel's",
        [c for c in derived if c.answer in ("same", "+0")],
        unit="answers",
    )
    graded = question is None or question.type == "grade"
    higher = lower = None
    mean = None
    if graded:
        steps = [int(c.answer) for c in derived if c.answer not in ("same", "differs")]
        higher = reg.add(
            f"{stem}/higher",
            f"answers of {name} to {what} graded higher than the panel's",
            [c for c in derived if c.answer not in ("same", "differs") and int(c.answer) > 0],
            unit="answers",
        )
        lower = reg.add(
            f"{stem}/lower",
            f"answers of {name} to {what} graded lower than the panel's",
            [c for c in derived if c.answer not in ("same", "differs") and int(c.answer) < 0],
            unit="answers",
        )
        mean = sum(steps) / len(steps) if steps else None
    return Comparison(agency, question, pairs, same, higher, lower, mean, reg.share(same, pairs))


def gather(inputs: Inputs) -> PartnershipFigures:
    """Gather every figure of a multi-agency review from its records."""
    rubric = inputs.rubric
    reg = _Registry()
    case_types = {c["id"]: c["case_type"] for c in inputs.cases}
    known_types = {ct.id for ct in rubric.case_types}
    order = {a: i for i, a in enumerate(inputs.agency_order)}
    involved = sorted(
        {a for agencies in inputs.case_agencies.values() for a in agencies},
        key=lambda a: (order.get(a, len(order)), inputs.agency_names.get(a, a)),
    )
    agencies = tuple((a, inputs.agency_names.get(a, a)) for a in involved)

    reg.add(
        "children",
        "children in the review",
        [Cell(c["id"], "review", "in_review", "yes") for c in inputs.cases],
    )
    for agency_id, name in agencies:
        reg.add(
            f"known/{agency_id}",
            f"children recorded as known to {name}",
            [
                Cell(case_id, agency_id, "known", "yes")
                for case_id, known in inputs.case_agencies.items()
                if agency_id in known and case_id in case_types
            ],
        )

    # Counted: submitted agency audits, held panels, of children whose case type is known.
    def counted(rows: Sequence[Mapping[str, Any]], ok: str) -> list[Mapping[str, Any]]:
        return [r for r in rows if r.get(ok) and case_types.get(r["case_id"]) in known_types]

    held = counted(inputs.panels, "agreed_at")
    submitted = counted(
        [{**a, "ok": a["status"] == "submitted"} for a in inputs.agency_audits], "ok"
    )
    cells: set[Cell] = set()
    panel_cells = _party_cells(
        panel_part(rubric),
        PANEL,
        [(p["case_id"], case_types[p["case_id"]], frozenset(), p["answers"]) for p in held],
    )
    cells |= panel_cells
    for agency_id, _name in agencies:
        part = agency_part(rubric, agency_id)
        own = _party_cells(
            part,
            agency_id,
            [
                (a["case_id"], case_types[a["case_id"]], frozenset(a["sections_na"]), a["answers"])
                for a in submitted
                if a["agency_id"] == agency_id
            ],
        )
        cells |= own

    panel = _register_party(reg, panel_part(rubric), PANEL, "the panel", cells)
    by_agency = {
        agency_id: _register_party(reg, agency_part(rubric, agency_id), agency_id, name, cells)
        for agency_id, name in agencies
    }
    pooled = []
    for question_id in compared_questions(rubric):
        question = rubric.question(question_id)
        if question.type == "text":
            continue
        mine = [
            c
            for c in cells
            if c.measure == question_id and c.party not in (PANEL,) and c.answer != NOT_APPLICABLE
        ]
        answered = reg.add(
            f"{POOLED}/q/{question_id}/answered",
            f"agencies' own answers to {question_id}, not applicable aside",
            mine,
            unit="answers",
        )
        reg.add(
            f"{POOLED}/q/{question_id}/good",
            f"agencies' own answers to {question_id} that were good practice",
            [c for c in mine if _good(question, rubric, c.answer)],
            unit="answers",
        )
        pooled.append((question, reg.share(f"{POOLED}/q/{question_id}/good", answered)))
    comparisons = {
        agency_id: _compare(reg, rubric, agency_id, name, cells) for agency_id, name in agencies
    }
    _register_safety(reg, rubric, inputs, cells, agencies, case_types)
    themes = _register_learning(reg, inputs, case_types)
    _register_actions(reg, inputs, agencies)
    reg.add(
        "panels/open",
        "children whose panel is open and not yet held",
        [
            Cell(p["case_id"], PANEL, "panel", "open")
            for p in inputs.panels
            if not p.get("agreed_at") and p["case_id"] in case_types
        ],
    )
    figures = PartnershipFigures(
        rubric=rubric,
        agencies=agencies,
        cells=frozenset(reg.cells),
        counts=reg.counts,
        panel=panel,
        by_agency=by_agency,
        pooled=tuple(pooled),
        comparisons=comparisons,
        themes=themes,
        threshold=threshold_label(rubric.scale),
    )
    return figures


def _register_safety(
    reg: _Registry,
    rubric: Rubric,
    inputs: Inputs,
    cells: set[Cell],
    agencies: Sequence[tuple[str, str]],
    case_types: Mapping[str, str],
) -> None:
    """Children found not adequately safeguarded (by the panel, each agency, any) and alerts."""
    critical = {q.id: q for q in rubric.critical_questions()}

    def adverse(party: str) -> set[str]:
        return {
            c.case
            for c in cells
            if c.party == party
            and c.measure in critical
            and critical[c.measure].is_adverse(c.answer)
        }

    reg.add(
        "safety/panel/not_safe",
        "children the panel agreed were not adequately safeguarded (an adverse agreed answer"
        " to a critical question), each child once",
        [Cell(case_id, PANEL, "not_safe", "yes") for case_id in adverse(PANEL)],
    )
    anyone: set[str] = set()
    for agency_id, name in agencies:
        found = adverse(agency_id)
        anyone |= found
        reg.add(
            f"safety/{agency_id}/not_safe",
            f"children {name}'s submitted audit found not adequately safeguarded",
            [Cell(case_id, agency_id, "not_safe", "yes") for case_id in found],
        )
    reg.add(
        "safety/any_agency/not_safe",
        "children at least one agency's submitted audit found not adequately safeguarded,"
        " each child once",
        [Cell(case_id, ANY_AGENCY, "not_safe", "yes") for case_id in anyone],
    )
    live = [a for a in inputs.alerts if not a.get("withdrawn_at") and a["case_id"] in case_types]

    def alert_cell(alert: Mapping[str, Any], answer: str) -> Cell:
        return Cell(
            alert["case_id"], alert.get("agency_id") or PANEL, f"alert:{alert['id']}", answer
        )

    reg.add(
        "alerts/raised",
        "safeguarding alerts raised by agencies' audits and panels, less any withdrawn",
        [alert_cell(a, "raised") for a in live],
        unit="alerts",
    )
    reg.add(
        "alerts/recorded",
        "those alerts whose escalation (who was told, when, what was agreed) is recorded",
        [alert_cell(a, "recorded") for a in live if a.get("recorded_at")],
        unit="alerts",
    )
    reg.add(
        "alerts/children",
        "children with at least one such alert, each child once",
        {Cell(a["case_id"], ANY_AGENCY, "alerted", "yes") for a in live},
    )


def _register_learning(
    reg: _Registry, inputs: Inputs, case_types: Mapping[str, str]
) -> tuple[tuple[str, str, str], ...]:
    """Learning recorded at panels, and children with learning on each theme."""
    items = [item for item in inputs.learning if item["case_id"] in case_types]
    reg.add(
        "learning/items",
        "pieces of learning the panels recorded",
        [Cell(i["case_id"], PANEL, f"learning:{i['id']}", "recorded") for i in items],
        unit="learning",
    )
    by_theme: dict[str, tuple[str, set[str]]] = {}
    for item in items:
        for theme_id, name in item["themes"]:
            by_theme.setdefault(theme_id, (name, set()))[1].add(item["case_id"])
    out = []
    for theme_id, (name, children) in sorted(
        by_theme.items(), key=lambda kv: (-len(kv[1][1]), kv[1][0].casefold())
    ):
        key = reg.add(
            f"learning/theme/{theme_id}",
            f"children with learning tagged {name}",
            [Cell(case_id, PANEL, f"theme:{theme_id}", "tagged") for case_id in children],
        )
        out.append((theme_id, name, key))
    return tuple(out)


def _register_actions(reg: _Registry, inputs: Inputs, agencies: Sequence[tuple[str, str]]) -> None:
    """Actions each agency owns: all, still open, overdue, done."""
    today = inputs.today.isoformat()
    owners = {a for a, _ in agencies} | {a["agency_id"] for a in inputs.actions}
    names = dict(agencies)
    for agency_id in sorted(owners):
        name = names.get(agency_id) or inputs.agency_names.get(agency_id, agency_id)
        mine = [a for a in inputs.actions if a["agency_id"] == agency_id]

        def cells(rows: Iterable[Mapping[str, Any]], agency: str = agency_id) -> list[Cell]:
            return [
                Cell(r["case_id"] or "", agency, f"action:{r['id']}", r["status"]) for r in rows
            ]

        is_open = [a for a in mine if a["status"] in ("not_started", "in_progress")]
        reg.add(f"actions/{agency_id}/all", f"actions {name} owns", cells(mine), unit="actions")
        reg.add(
            f"actions/{agency_id}/open",
            f"actions {name} owns that are not started or in progress",
            cells(is_open),
            unit="actions",
        )
        reg.add(
            f"actions/{agency_id}/overdue",
            f"open actions {name} owns whose due date has passed",
            cells(a for a in is_open if a["due_date"] and a["due_date"] < today),
            unit="actions",
        )
        reg.add(
            f"actions/{agency_id}/done",
            f"actions {name} owns that are done",
            cells(a for a in mine if a["status"] == "done"),
            unit="actions",
        )


# --------------------------------------------------------------------------- wording


def share_words(
    share: Share | Proportion | None, unit_words: Mapping[str, str] = UNIT_WORDS
) -> str:
    """Word a share with what it counts and its interval, the same on every surface."""
    p = share.proportion if isinstance(share, Share) else share
    if p is None or p.share is None:
        return "no answers yet"
    unit = unit_words.get(p.unit, p.unit)
    if p.n == 1:
        unit = {"children": "child", "answers": "answer"}.get(unit, unit)
    tail = f" from {p.cases} child{'ren' if p.cases != 1 else ''}" if p.unit == "answers" else ""
    return (
        f"{percent(p.share)} ({p.count} of {p.n} {unit}{tail}; 95% interval"
        f" {percent(p.low)} to {percent(p.high)})"
    )


def steps_words(mean: float | None) -> str:
    """Word an agency's average distance from the panel's grades in scale steps."""
    if mean is None:
        return "nothing to compare"
    rounded = round(mean, 2)
    if rounded == 0:
        return "in line with the panel on average"
    side = "higher (more generous)" if rounded > 0 else "lower (harsher)"
    return f"{abs(rounded):.2f} scale steps {side} than the panel on average"


def _party_dict(results: PartyResults) -> dict[str, Any]:
    return {
        "party": results.party,
        "name": results.name,
        "children_key": results.children,
        "overall": [{"label": label, "count_key": key} for label, key in results.overall],
        "overall_good_or_better": None
        if results.overall_good is None
        else results.overall_good.as_dict(),
        "sections": [
            {
                "section_id": s.section.id,
                "basis": s.basis,
                "cases": None if s.cases is None else s.cases.as_dict(),
                "answers": None if s.answers is None else s.answers.as_dict(),
                "questions": [
                    {
                        "question_id": q.question.id,
                        "values": [{"label": label, "count_key": key} for label, key in q.values],
                        "not_applicable_key": q.not_applicable,
                        "answered_key": q.answered,
                        "good_or_better": None if q.good is None else q.good.as_dict(),
                    }
                    for q in s.questions
                ],
            }
            for s in results.sections
        ],
    }


def _comparison_dict(c: Comparison) -> dict[str, Any]:
    return {
        "question_id": None if c.question is None else c.question.id,
        "pairs_key": c.pairs,
        "same_key": c.same,
        "higher_key": c.higher,
        "lower_key": c.lower,
        "mean_steps": c.mean_steps,
        "agreement": None if c.agreement is None else c.agreement.as_dict(),
    }


class InternalView:
    """How the internal outputs (pages, internal report) print the figures: every count as is.

    The partnership report's templates print every number through a view's :meth:`count`
    and :meth:`share`, never from the counts directly, so a public view can later withhold
    small counts without any change to the chapters.
    """

    public = False

    def __init__(self, figures: PartnershipFigures) -> None:
        self.figures = figures

    def count(self, key: str) -> str:
        """Print a count."""
        return str(self.figures.count(key))

    def share(self, share: Share | Proportion | None) -> str:
        """Print a share with what it counts and its interval."""
        return share_words(share)
