"""The findings report's numbers, defined once through the disclosure model.

Every count the report prints is a published cell of :class:`audit.reporting.disclosure.Model`,
a sum over the records it counts:

* **case files** (``cases``): status (audited or still waiting), case type, team and overall
  judgement: the cases audited, by case type, by team, the overall judgement and its spread;
* **answers** (``question:<id>``): each question the report prints, by case type (only those
  it applies to) and answer, "not applicable" and unanswered included;
* **sections counted by their checks** (``checks:<section>``): every check met, or not;
* **timeliness measures** (``time:<n>``): case type, outcome and the same case's judgement;
* **safeguarding alerts**, **submitted audits** (first, second, other; moderated or not),
  **grade changes at moderation**, **second audits**, **agreement pairs**, the **sample**,
  and the earlier reviews of a programme's **trend** and findings' evidence where it differs.

What a careful reader knows is added as knowledge (each only when it is true): the rubric's
applicability rules (a question is answered by every audited case of the types it applies to,
and of no other), frames over the same cases agree on every margin they share, every audited
case has an overall judgement, no question is left unanswered, audits = cases audited + second
audits, the children found not adequately safeguarded are the adverse answers to the critical
question (each case once), and a section counted by its checks misses a check no more often
than its checks are missed.

First the public version is redesigned: a breakdown (case type, team) where two or more
categories, at least half of them, have fewer cases than the threshold shows those together
("Other teams"), or is left out when fewer than two categories would have the threshold or
more. Then :meth:`Model.protect` does the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from audit.reporting.disclosure import Frame, Model, Selection, total

if TYPE_CHECKING:
    from audit.reporting.report import Figures

NO_TEAM = "No team given"
OTHER = "~other"
NONE = "none"
NA = "na"
UNANSWERED = "unanswered"

# Groups: what is left out together when nothing else protects a count in it.
GROUPS = {
    "method": ("the number of cases audited", False),
    "waiting": ("case files not yet audited", True),
    "by_type": ("results by case type", True),
    "by_team": ("results by team", True),
    "strata": ("the sample by stratum", True),
    "moderation": ("moderation", True),
    "second": ("second audits", True),
    "agreement": ("auditor agreement", True),
    "safety": ("children's safety", False),
    "alerts": ("safeguarding alerts", True),
    "headline": ("the headline share", False),
    "overall": ("the spread of overall judgements", True),
    "trend": ("the trend over the programme", True),
    "errors": ("stored values left out", True),
}


TYPE_LEVELS_NOTE = (
    "In the public version, the overall judgement by case type is given only as the share "
    "judged good or better: most of its counts by grade are below {threshold}."
)


@dataclass(frozen=True)
class Category:
    """A row of a breakdown: one category, or several shown together."""

    key: str
    label: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Breakdown:
    """The rows of a breakdown in each version; no public rows: left out of the public one."""

    internal: tuple[Category, ...]
    public: tuple[Category, ...]
    note: str = ""

    def rows(self, public: bool) -> tuple[Category, ...]:
        """Return the rows the given version prints."""
        return self.public if public else self.internal


@dataclass
class Definitions:
    """The model of the report's numbers and the redesigned breakdowns it prints."""

    model: Model
    by_type: Breakdown
    by_team: Breakdown
    type_levels: bool = True
    """Whether the public chart by case type shows each grade's count (else only the share)."""
    findings_key: dict[str, str] = field(default_factory=dict)
    """Finding id -> the share prefix its evidence is printed under."""


def collapse(
    counts: Mapping[str, int],
    label: Callable[[str], str],
    threshold: int,
    *,
    prefix: str,
    other: str,
    noun: str,
    left_out_note: str,
) -> Breakdown:
    """Redesign one breakdown for the public version: small categories together, or left out."""
    cats = sorted((c for c, n in counts.items() if n > 0), key=label)
    internal = tuple(Category(f"{prefix}/{c}", label(c), (c,)) for c in cats)
    small = [c for c in cats if counts[c] < threshold]
    if threshold <= 1 or len(small) < 2 or 2 * len(small) < len(cats):
        return Breakdown(internal, internal)
    big = [c for c in cats if counts[c] >= threshold]
    merged = sum(counts[c] for c in small)
    if len(big) + (merged >= threshold) < 2:
        return Breakdown(internal, (), left_out_note)
    names = ", ".join(label(c) for c in small)
    public = (
        *(c for c in internal if c.members[0] in big),
        Category(f"{prefix}/{OTHER}", f"{other} ({names})", tuple(small)),
    )
    note = (
        f"In the public version, {noun} with fewer than {threshold} cases audited are shown "
        f"together as “{other}”."
    )
    return Breakdown(internal, public, note)


class _Definer:
    """Build the model from the review's records, chapter by chapter of the report."""

    def __init__(self, figures: Figures, *, knowledge: bool = True) -> None:
        self.f = figures
        self.rubric = figures.rubric
        self.m = Model(knowledge=knowledge)
        for name, (label, droppable) in GROUPS.items():
            self.m.group(name, label, droppable=droppable)
        self.levels = [level.id for level in self.rubric.scale.levels]
        self.good = [lv for lv in self.levels if self.rubric.scale.is_good(lv)]
        self.bad = [lv for lv in self.levels if lv not in self.good]
        self.question_frames: dict[str, Frame] = {}

    # -- case files

    def cases(self) -> Frame:
        f = self.f
        audited_ids = {c["case_id"] for c in f.audited}
        types = [ct.id for ct in self.rubric.case_types]
        types += sorted({c["case_type"] for c in f.case_files} - set(types))
        teams = sorted({c["team"] or NO_TEAM for c in f.case_files} | {NO_TEAM})
        frame = self.m.frame(
            "cases",
            {
                "status": ("audited", "waiting"),
                "case_type": types,
                "team": teams,
                "overall": [*self.levels, NONE],
            },
            possible=lambda c: c["status"] == "audited" or c["overall"] == NONE,
        )
        seen: Counter[tuple[str, str, str, str]] = Counter()
        for case in f.audited:
            level = f.overall_by_audit.get(case["audit_id"])
            level = level if level in self.levels else NONE
            seen[("audited", case["case_type"], case["team"] or NO_TEAM, level)] += 1
        for case in f.case_files:
            if case["id"] not in audited_ids:
                seen[("waiting", case["case_type"], case["team"] or NO_TEAM, NONE)] += 1
        for (status, ct, team, level), n in seen.items():
            frame.add(n, status=status, case_type=ct, team=team, overall=level)
        self.case_frame = frame
        self.m.know(
            frame.where(status="audited", overall=NONE),
            why="every audited case has an overall judgement",
        )
        return frame

    def method(self) -> Definitions:
        m, f, frame = self.m, self.f, self.case_frame
        audited = frame.where(status="audited")
        m.cell("audited", audited, anchor=True, group="method", weight=50)
        m.cell("cases", frame.where(), group="waiting", weight=3)
        m.cell("cases/waiting", frame.where(status="waiting"), group="waiting", weight=2)
        t = f.threshold
        by_type = Counter(c["case_type"] for c in f.audited)
        by_team = Counter(c["team"] or NO_TEAM for c in f.audited)
        type_label = self.case_type_label
        self.by_type = collapse(
            by_type,
            type_label,
            t,
            prefix="type",
            other="Other case types",
            noun="case types",
            left_out_note=(
                "Results by case type are left out of the public version: too few of the case "
                f"types had {t} or more cases audited for them to be shown safely."
            ),
        )
        self.by_team = collapse(
            by_team,
            lambda team: team,
            t,
            prefix="team",
            other="Other teams",
            noun="teams",
            left_out_note=(
                "Results by team are left out of the public version: too few of the teams had "
                f"{t} or more cases audited for them to be shown safely."
            ),
        )
        self.type_levels_public = self._levels_worth_showing(self.by_type.public)
        for name, breakdown, dim in (
            ("by_type", self.by_type, "case_type"),
            ("by_team", self.by_team, "team"),
        ):
            self._breakdown_cells(breakdown, dim, name)
            if breakdown.note:
                m.notes.append(breakdown.note)
        if self.by_type.public and not self.type_levels_public:
            m.notes.append(TYPE_LEVELS_NOTE.format(threshold=t))
        return Definitions(m, self.by_type, self.by_team, type_levels=self.type_levels_public)

    def _levels_worth_showing(self, rows: Sequence[Category]) -> bool:
        """Tell whether the public chart by case type may show each grade's count.

        When most of its counts by grade are below the threshold, the rows by case type
        print only the share good or better (the redesign the GSS guidance advises first).
        """
        t = self.f.threshold
        counts: Counter[tuple[str, Any]] = Counter()
        for case in self.f.audited:
            level = self.f.overall_by_audit.get(case["audit_id"])
            for cat in rows:
                if case["case_type"] in cat.members:
                    counts[(cat.key, level)] += 1
        nonzero = [n for n in counts.values() if n]
        return not nonzero or 2 * sum(1 for n in nonzero if n < t) <= len(nonzero)

    def _breakdown_cells(self, breakdown: Breakdown, dim: str, group: str) -> None:
        """Publish each row's cases audited and its overall judgement (by type: by level)."""
        public_keys = {c.key for c in breakdown.public}
        frame = self.case_frame
        for cat in dict.fromkeys(breakdown.internal + breakdown.public):
            public = cat.key in public_keys
            internal = cat in breakdown.internal
            if not (public or internal):
                continue
            where = {"status": "audited", dim: cat.members}
            options = {"group": group, "public": public}
            self.m.cell(cat.key, frame.where(**where), weight=4, **options)
            prefix = f"overall/{cat.key}"
            graded = frame.where(**where, overall=self.levels)
            self.m.share(
                prefix, frame.where(**where, overall=self.good), graded, weight=2, **options
            )
            if dim == "case_type":
                # Each row of the chart by case type can be left out on its own.
                row = self.m.group(f"levels:{prefix}", f"the grades of {cat.label}")
                for level in self.levels:
                    self.m.cell(
                        f"{prefix}:{level}",
                        frame.where(**where, overall=level),
                        group=row,
                        public=public and self.type_levels_public,
                    )

    def case_type_label(self, case_type: str) -> str:
        try:
            return str(self.rubric.case_type(case_type).label)
        except (KeyError, LookupError, AttributeError):
            return case_type

    def sample(self) -> None:
        m, f = self.m, self.f
        sampling = f.review.settings.get("sampling") or {}
        strata = sampling.get("strata") or {}
        population = int(sampling.get("population", 0) or 0)
        names = sorted(strata)
        frame = m.frame(
            "sample",
            {"stratum": [*names, OTHER], "drawn": ("yes", "no")},
        )
        for name in names:
            counts = strata[name] or {}
            drawn = int(counts.get("sample", 0) or 0)
            listed = int(counts.get("population", 0) or 0)
            frame.add(drawn, stratum=name, drawn="yes")
            frame.add(max(listed - drawn, 0), stratum=name, drawn="no")
        rest = population - sum(int((strata[n] or {}).get("population", 0) or 0) for n in names)
        frame.add(max(rest, 0), stratum=OTHER, drawn="no")
        m.know(frame.where(stratum=OTHER), why="the strata make up the whole list")
        m.cell("sample/population", frame.where(), group="strata", weight=2)
        for name in names:
            m.cell(f"stratum/{name}:population", frame.where(stratum=name), group="strata")
            m.cell(f"stratum/{name}:sample", frame.where(stratum=name, drawn="yes"), group="strata")
            dim = {"case_type": "case_type", "team": "team"}.get(sampling.get("stratify_by", ""))
            if dim and name in self.case_frame.domains[dim]:
                m.know(
                    frame.where(stratum=name, drawn="yes"),
                    "==",
                    self.case_frame.where(**{dim: name}),
                    why=f"the cases drawn from stratum {name} are its case files",
                )

    def moderation(self) -> None:
        m, f = self.m, self.f
        audits = m.frame(
            "audits", {"purpose": ("first", "second", "other"), "moderated": ("yes", "no")}
        )
        for row in f.submitted:
            purpose = row["purpose"] if row["purpose"] in ("first", "second") else "other"
            audits.add(row["n"], purpose=purpose, moderated="yes" if row["moderated"] else "no")
        m.know(
            audits.where(purpose="first"),
            "==",
            self.case_frame.where(status="audited"),
            why="each audited case is one submitted first audit",
        )
        options = {"sensitive": False, "group": "moderation"}
        m.cell("moderation/submitted", audits.where(), **options)
        m.cell("moderation/moderated", audits.where(moderated="yes"), **options)
        moderation = f.moderation
        changes = m.frame("grade changes", {"direction": ("raised", "lowered", "other")})
        changes.add(moderation["raised"], direction="raised")
        changes.add(moderation["lowered"], direction="lowered")
        changes.add(moderation["other_changes"], direction="other")
        m.cell("moderation/changed", changes.where(), **options)
        m.cell("moderation/raised", changes.where(direction="raised"), **options)
        m.cell("moderation/lowered", changes.where(direction="lowered"), **options)
        m.know(changes.where(direction="other"), why="no grade moved sideways at moderation")
        # Second audits and the cases audited twice.
        second = m.frame("second audits", {"state": ("both", "waiting")})
        twice = int(f.agreement["cases"])
        second.add(twice, state="both")
        second.add(max(f.second_chosen - twice, 0), state="waiting")
        options = {"sensitive": False, "group": "second"}
        m.cell("second", second.where(), **options)
        m.cell("twice", second.where(state="both"), **options)
        m.know(
            second.where(state="both"),
            "<=",
            self.case_frame.where(status="audited"),
            why="a case audited twice is an audited case",
        )
        m.know(
            audits.where(purpose=("second", "other")),
            "==",
            second.where(state="both"),
            why="audits are the cases audited and their second audits",
        )
        for item in self.agreement_items():
            pairs = m.frame(f"pairs:{item.key or 'overall'}", {"graded": ("both", "not")})
            pairs.add(item.pairs, graded="both")
            pairs.add(max(twice - item.pairs, 0), graded="not")
            m.know(
                pairs.where(),
                "==",
                second.where(state="both"),
                why="pairs are of the cases audited twice",
            )
            m.know(pairs.where(graded="not"), why="both audits graded it")
            m.cell(
                f"agreement/{item.key or 'overall'}:pairs",
                pairs.where(graded="both"),
                sensitive=False,
                group="agreement",
            )

    def agreement_items(self) -> list[Any]:
        agreed = self.f.agreement
        overall_section = overall_section_of(self.rubric)
        return [
            item
            for item in [agreed["overall"], *agreed["sections"]]
            if item is agreed["overall"] or item.key != overall_section
        ]

    # -- answers

    def question(self, question_id: str) -> Frame:
        """Return the frame of a question's answers by case type (made once)."""
        if question_id in self.question_frames:
            return self.question_frames[question_id]
        rubric = self.rubric
        q = rubric.question(question_id)
        section = rubric.section_of(question_id)
        by_type = self.f.agg.question(question_id).breakdown.by_case_type
        applies = [
            ct
            for ct in self.case_frame.domains["case_type"]
            if section.applies(ct) and q.applies(ct)
        ]
        values = (
            [*self.levels] if q.type == "grade" else ["yes", "no"] if q.type == "yes_no" else []
        )
        extra = sorted({v for d in by_type.values() for v in d.counts} - set(values))
        frame = self._by_type(f"question:{question_id}", applies, by_type, [*values, *extra])
        self.m.know(frame.where(value=UNANSWERED), why=f"{question_id} is always answered")
        if not q.allow_na and section.compulsory:
            self.m.know(frame.where(value=NA), why=f"{question_id} cannot be not applicable")
        if extra:
            self.m.know(frame.where(value=extra), why=f"{question_id} has only its own answers")
        self.question_frames[question_id] = frame
        return frame

    def _by_type(
        self, name: str, applies: Sequence[str], by_type: Mapping[str, Any], values: Sequence[str]
    ) -> Frame:
        """Return a frame of answers by case type, tied to the audited cases of each type.

        A reader knows the audit tool: every audited case of a type it applies to has one
        answer here (a value, not applicable, or none), and no case of another type has any.
        """
        present = [ct for ct, d in by_type.items() if _total(d) and ct not in applies]
        frame = self.m.frame(
            name, {"case_type": [*applies, *present], "value": [*values, NA, UNANSWERED]}
        )
        for ct, dist in by_type.items():
            if ct not in frame.domains["case_type"]:
                continue
            for value, n in dist.counts.items():
                frame.add(n, case_type=ct, value=value)
            frame.add(dist.not_applicable, case_type=ct, value=NA)
            frame.add(dist.unanswered, case_type=ct, value=UNANSWERED)
        self.m.link(
            self.case_frame,
            _only(frame, "case_type", applies),
            ["case_type"],
            where_a={"status": "audited"},
            why=f"{name} is answered for every audited case it applies to",
        )
        for ct in present:
            self.m.know(frame.where(case_type=ct), why=f"{name} is not asked of {ct}")
        return frame

    def answered(self, question_id: str) -> Selection:
        frame = self.question(question_id)
        return frame.where(value=[v for v in frame.domains["value"] if v not in (NA, UNANSWERED)])

    def good_answers(self, question_id: str) -> Selection:
        q = self.rubric.question(question_id)
        frame = self.question(question_id)
        if q.type == "grade":
            return frame.where(value=self.good)
        if q.type == "yes_no" and q.good_answer:
            return frame.where(value=q.good_answer)
        return Selection()

    def headline(self) -> None:
        m, frame = self.m, self.case_frame
        audited = {"status": "audited"}
        m.share(
            "overall",
            frame.where(**audited, overall=self.good),
            frame.where(**audited, overall=self.levels),
            anchor=True,
            group="headline",
            weight=20,
        )
        for level in self.levels:
            m.cell(
                f"overall:{level}", frame.where(**audited, overall=level), group="overall", weight=3
            )

    def safeguarding(self) -> None:
        m, f = self.m, self.f
        critical = self.rubric.critical_questions()
        selections = []
        for q in critical:
            frame = self.question(q.id)
            adverse = [v for v in frame.domains["value"] if q.is_adverse(v)]
            selections.append((q, frame, adverse))
        if len(selections) == 1:
            _, frame, adverse = selections[0]
            cases = frame.where(value=adverse)
        else:
            safe = m.frame(
                "safeguarding",
                {"case_type": self.case_frame.domains["case_type"], "adverse": ("yes", "no")},
            )
            adverse_by_type = Counter(
                c["case_type"] for c in f.audited if c["audit_id"] in f.adverse_audits
            )
            by_type = Counter(c["case_type"] for c in f.audited)
            for ct, n in by_type.items():
                safe.add(adverse_by_type[ct], case_type=ct, adverse="yes")
                safe.add(n - adverse_by_type[ct], case_type=ct, adverse="no")
            m.link(
                self.case_frame,
                safe,
                ["case_type"],
                where_a={"status": "audited"},
                why="the safeguarding count is of the audited cases",
            )
            for ct in safe.domains["case_type"]:
                one = safe.where(case_type=ct, adverse="yes")
                parts = [
                    frame.where(case_type=ct, value=adverse)
                    for _, frame, adverse in selections
                    if ct in frame.domains["case_type"]
                ]
                for part in parts:
                    m.know(part, "<=", one, why=f"an adverse answer makes a case ({ct})")
                m.know(one, "<=", total(parts), why=f"a case is adverse on some question ({ct})")
            cases = safe.where(adverse="yes")
        m.cell("safeguarding", cases, group="safety", weight=10)
        # Alerts: every alert not withdrawn, by whether it is recorded and the first for its case.
        alerts = m.frame("alerts", {"recorded": ("yes", "no"), "first": ("yes", "no")})
        seen: set[str] = set()
        for alert in f.alert_records:
            first = alert["case_id"] not in seen
            seen.add(alert["case_id"])
            alerts.add(
                recorded="yes" if alert["recorded"] else "no", first="yes" if first else "no"
            )
        m.cell("alerts", alerts.where(), group="alerts", weight=3)
        m.cell("alerts/cases", alerts.where(first="yes"), group="alerts", weight=3)
        m.cell("alerts/recorded", alerts.where(recorded="yes"), group="alerts", weight=2)
        m.cell("alerts/waiting", alerts.where(recorded="no"), group="alerts", weight=2)
        m.know(
            alerts.where(first="yes"),
            "<=",
            self.case_frame.where(),
            why="alerts are about the review's case files",
        )
        m.know(
            cases,
            "<=",
            alerts.where(first="yes"),
            why="every child found not adequately safeguarded raised an alert",
        )

    def sections(self) -> None:
        m, agg, rubric = self.m, self.f.agg, self.rubric
        overall_section = overall_section_of(rubric)
        for result in agg.sections:
            section = result.section
            group = m.group(
                f"section:{section.id}", f"the section {section.title}", droppable=False
            )
            if section.grade_question and result.basis == "grade":
                if section.id == overall_section:
                    continue
                qid = section.grade_question
                frame = self.question(qid)
                m.share(
                    f"section/{section.id}",
                    self.good_answers(qid),
                    self.answered(qid),
                    anchor=True,
                    group=group,
                    weight=10,
                )
                grades = m.group(f"grades:{section.id}", f"the grades of {section.title}")
                for level in self.levels:
                    m.cell(
                        f"section/{section.id}:{level}",
                        frame.where(value=level),
                        group=grades,
                        weight=2,
                    )
            elif result.basis == "checks":
                self.checks_section(result, group)
            for q in section.questions:
                if q.type != "yes_no":
                    continue
                dist = agg.question(q.id).breakdown.whole
                if dist.answered == 0 and dist.not_applicable == 0:
                    continue
                check = m.group(f"check:{q.id}", f"the check “{' '.join(q.text.split())}”")
                frame = self.question(q.id)
                m.share(
                    f"check/{q.id}",
                    self.good_answers(q.id),
                    self.answered(q.id),
                    group=check,
                    weight=2,
                )
                m.cell(f"check/{q.id}:na", frame.where(value=NA), group=check, weight=1)

    def checks_section(self, result: Any, group: str) -> None:
        """Publish a section counted by its checks: cases with every check met, and answers."""
        m, section = self.m, result.section
        checks = [q for q in section.questions if q.type == "yes_no"]
        applies = [
            ct
            for ct in self.case_frame.domains["case_type"]
            if section.applies(ct) and any(q.applies(ct) for q in checks)
        ]
        frame = self._by_type(
            f"checks:{section.id}", applies, result.breakdown.by_case_type, ("yes", "no")
        )
        for ct in applies:
            asked = [q for q in checks if q.applies(ct)]
            missed = frame.where(case_type=ct, value="no")
            counted = frame.where(case_type=ct, value=("yes", "no"))
            bad = []
            for q in asked:
                qf = self.question(q.id)
                wrong = [v for v in ("yes", "no") if v != (q.good_answer or "yes")]
                miss = qf.where(case_type=ct, value=wrong)
                bad.append(miss)
                m.know(miss, "<=", missed, why=f"a missed check misses the section ({ct})")
                m.know(
                    qf.where(case_type=ct, value=("yes", "no")),
                    "<=",
                    counted,
                    why=f"a case answering a check is counted in its section ({ct})",
                )
            m.know(missed, "<=", total(bad), why=f"a missed section missed a check ({ct})")
        m.share(
            f"section/{section.id}",
            frame.where(value="yes"),
            frame.where(value=("yes", "no")),
            anchor=True,
            group=group,
            weight=10,
        )
        if result.answers is not None:
            good = total(self.good_answers(q.id) for q in checks)
            answered = total(self.answered(q.id) for q in checks)
            pooled = m.group(f"answers:{section.id}", f"the check answers of {section.title}")
            if (m.value(good), m.value(answered)) == (result.answers.count, result.answers.n):
                m.share(f"section/{section.id}/answers", good, answered, group=pooled, weight=2)
                if result.answers.cases == m.value(frame.where(value=("yes", "no"))):
                    m.same_as(f"section/{section.id}/answers:cases", f"section/{section.id}:n")
            else:
                self.standalone(f"section/{section.id}/answers", result.answers, group=pooled)

    def standalone(self, prefix: str, p: Any, *, group: str, adverse: int | None = None) -> None:
        """Publish a share whose records are not the review's current ones (its own frame)."""
        frame = self.m.frame(prefix, {"value": ("good", "adverse", "other")})
        frame.add(p.count, value="good")
        adverse = 0 if adverse is None else max(0, min(adverse, p.n - p.count))
        frame.add(adverse, value="adverse")
        frame.add(p.n - p.count - adverse, value="other")
        self.m.share(prefix, frame.where(value="good"), frame.where(), group=group)
        self.m.cell(f"{prefix}/adverse", frame.where(value="adverse"), group=group)

    def timeliness(self) -> None:
        m, f = self.m, self.f
        by_case = {c["case_id"]: c for c in f.audited}
        types = self.case_frame.domains["case_type"]
        for i, row in enumerate(f.timeliness):
            measure = row.result.measure
            frame = m.frame(
                f"time:{i}",
                {
                    "case_type": types,
                    "outcome": ("on_time", "late", "not_recorded", "not_applicable"),
                    "overall": [*self.levels, NONE],
                },
                possible=lambda c, measure=measure: (
                    (c["outcome"] == "not_applicable") != measure.applies(c["case_type"])
                ),
            )
            seen: Counter[tuple[str, str, str]] = Counter()
            for timing in row.result.cases:
                case = by_case.get(timing.case_id)
                if case is not None:
                    level = f.overall_by_audit.get(case["audit_id"])
                    seen[(case["case_type"], timing.status, level or NONE)] += 1
            for (ct, outcome, level), n in seen.items():
                overall = level if level in self.levels else NONE
                frame.add(n, case_type=ct, outcome=outcome, overall=overall)
            m.link(
                self.case_frame,
                frame,
                ["case_type", "overall"],
                where_a={"status": "audited"},
                why=f"measure {measure.name} is judged for every audited case",
            )
            group = m.group(f"time:{i}", f"the measure {measure.name}")
            on = {"outcome": ("on_time", "late")}
            m.share(
                f"time/{i}",
                frame.where(outcome="on_time"),
                frame.where(**on),
                group=group,
                weight=2,
            )
            m.cell(f"time/{i}:late", frame.where(outcome="late"), group=group, weight=2)
            m.cell(f"time/{i}:unrecorded", frame.where(outcome="not_recorded"), group=group)
            applicable = ("on_time", "late", "not_recorded")
            m.share(
                f"time/{i}/quality",
                frame.where(outcome=applicable, overall=self.good),
                frame.where(outcome=applicable, overall=self.levels),
                group=group,
            )

    def trend(self, shares: Mapping[str, str]) -> None:
        trend = self.f.trend
        if trend is None:
            return
        for li, line in enumerate([trend["overall"], *trend["sections"]]):
            current = shares.get(line.key)
            last = len(line.points) - 1
            for pi, point in enumerate(line.points):
                prefix = f"trend/{li}/{pi}"
                if pi == last and current and self._is(current, point.good):
                    self._alias(prefix, current, group="trend")
                else:
                    self.standalone(prefix, point.good, group="trend")

    def _is(self, prefix: str, p: Any) -> bool:
        cells = self.m.cells
        return (cells[f"{prefix}:count"].value, cells[f"{prefix}:n"].value) == (p.count, p.n)

    def _alias(self, prefix: str, same: str, *, group: str) -> None:
        for part in ("count", "n", "rest", "cases"):
            if f"{same}:{part}" not in self.m.cells:
                continue
            cell = self.m.cells[f"{same}:{part}"]
            self.m.cell(
                f"{prefix}:{part}",
                cell.selection,
                group=group,
                weight=cell.weight,
                implied=cell.implied,
            )

    def evidence(self, definitions: Definitions) -> None:
        """Publish each accepted finding's evidence: the current figure, or its own snapshot."""
        for finding in self.f.findings:
            evidence = finding.evidence
            if finding.origin == "other" or not evidence.get("n"):
                continue
            p = evidence_proportion(evidence)
            prefix = f"finding/{finding.id}"
            group = self.m.group(prefix, "a finding's evidence")
            current = self.current_for(finding)
            adverse = critical_adverse(self.rubric, evidence)
            if (
                current
                and self._is(current[0], p)
                and (adverse is None or self.m.value(current[1]) == adverse)
            ):
                self._alias(prefix, current[0], group=group)
                self.m.cell(f"{prefix}/adverse", current[1], group=group)
            else:
                self.standalone(prefix, p, group=group, adverse=adverse)
            definitions.findings_key[finding.id] = prefix

    def current_for(self, finding: Any) -> tuple[str, Selection] | None:
        """Return the share a finding's evidence is (prefix, adverse answers), if published.

        A suggestion's evidence names its key; the lead's own finding is linked to questions:
        one question's share, or the answers to several pooled.
        """
        key = str(finding.evidence.get("key", ""))
        questions = [q for q in finding.question_ids if q in {q.id for q in self.rubric.questions}]
        if not key and len(questions) == 1:
            key = f"question:{questions[0]}"
        elif not key and len(questions) > 1:
            usable = [q for q in questions if self.rubric.question(q).type in ("grade", "yes_no")]
            if len(usable) != len(questions):
                return None
            prefix = "pooled/" + ",".join(sorted(usable))
            if f"{prefix}:count" not in self.m.cells:
                group = self.m.group(prefix, "a finding's pooled answers")
                self.m.share(
                    prefix,
                    total(self.good_answers(q) for q in usable),
                    total(self.answered(q) for q in usable),
                    group=group,
                )
                # "from so many cases": the most cases answering any one of the questions.
                most = max(usable, key=lambda q: self.m.value(self.answered(q)))
                self.m.cell(f"{prefix}:cases", self.answered(most), group=group)
            return prefix, Selection()
        kind, _, ident = key.partition(":")
        cells = self.m.cells
        if kind == "section" and f"section/{ident}:count" in cells:
            return f"section/{ident}", Selection()
        if kind == "section" and ident == overall_section_of(self.rubric):
            return "overall", Selection()
        if kind in ("question", "critical") and ident in {q.id for q in self.rubric.questions}:
            q = self.rubric.question(ident)
            if q.type not in ("grade", "yes_no"):
                return None
            prefix = f"question/{ident}"
            if f"{prefix}:count" not in cells:
                group = self.m.group(prefix, f"the question “{' '.join(q.text.split())}”")
                self.m.share(prefix, self.good_answers(ident), self.answered(ident), group=group)
            frame = self.question(ident)
            adverse = frame.where(value=[v for v in frame.domains["value"] if q.is_adverse(v)])
            return prefix, adverse
        return None

    def errors(self) -> None:
        frame = self.m.frame("stored values left out", {"kind": ("left out",)})
        frame.add(self.f.left_out, kind="left out")
        self.m.cell("data_errors", frame.where(), sensitive=False, group="errors")


def define(figures: Figures, *, knowledge: bool = True) -> Definitions:
    """Define every number the findings report prints through one disclosure model.

    ``knowledge=False``: for the internal version, which needs the counts but no reader.
    """
    d = _Definer(figures, knowledge=knowledge)
    d.cases()
    definitions = d.method()
    d.sample()
    d.moderation()
    d.headline()
    d.safeguarding()
    d.sections()
    d.timeliness()
    shares = {"overall": "overall"}
    for result in figures.agg.sections:
        if f"section/{result.section.id}:count" in d.m.cells:
            shares[f"section:{result.section.id}"] = f"section/{result.section.id}"
    d.trend(shares)
    d.evidence(definitions)
    d.errors()
    return definitions


def overall_section_of(rubric: Any) -> str | None:
    """Return the id of the section whose grade is the overall judgement, if any."""
    return next(
        (
            s.id
            for s in rubric.sections
            if rubric.overall.question and s.grade_question == rubric.overall.question
        ),
        None,
    )


def evidence_proportion(evidence: Mapping[str, Any]) -> Any:
    """Return a finding's stored evidence as the share it was when the lead agreed it."""
    from audit.stats import Proportion

    return Proportion(
        count=int(evidence.get("count", 0)),
        n=int(evidence.get("n", 0)),
        share=evidence.get("share"),
        low=evidence.get("low"),
        high=evidence.get("high"),
        unit=str(evidence.get("unit") or "cases"),
        cases=evidence.get("cases"),
    )


def critical_adverse(rubric: Any, evidence: Mapping[str, Any]) -> int | None:
    """Return how many adverse answers a critical finding's evidence counts, if it is one."""
    key = str(evidence.get("key", ""))
    if not key.startswith("critical:"):
        return None
    if "adverse" in evidence:
        return int(evidence["adverse"])
    try:
        q = rubric.question(key.split(":", 1)[1])
    except (KeyError, LookupError):
        return None
    if q.type == "yes_no":
        return int(evidence.get("n", 0)) - int(evidence.get("count", 0))
    return None


def _total(dist: Any) -> int:
    return int(sum(dist.counts.values()) + dist.not_applicable + dist.unanswered)


def _only(frame: Frame, dim: str, categories: Sequence[str]) -> Frame:
    """Return a view of ``frame`` whose ``dim`` covers only ``categories`` (for linking)."""
    view = Frame.__new__(Frame)
    view.model, view.name, view.dims, view.index = frame.model, frame.name, frame.dims, frame.index
    view.domains = {**frame.domains, dim: tuple(categories)}
    return view


__all__ = [
    "NA",
    "NONE",
    "NO_TEAM",
    "OTHER",
    "Breakdown",
    "Category",
    "Definitions",
    "collapse",
    "critical_adverse",
    "define",
    "evidence_proportion",
    "overall_section_of",
]
