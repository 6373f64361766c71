"""Turn counted answers into findings: distributions, shares with intervals, suggestions.

Plain Python over rows the data layer has already counted (``audit.data.results``): no
Flask, no SQL. The same objects feed the dashboard, the findings page, the JSON export and
the report, so every surface shows the same numbers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from audit.reporting.charts import good_label
from audit.rubric import DEFAULT_WORDING, NOT_APPLICABLE, Question, Rubric, Scale, Section
from audit.stats import Proportion, clustered_share, share_of_answers, wilson

ALL = "all"


@dataclass(frozen=True)
class Distribution:
    """Answers to one question (or a section, or the overall judgement) for some cases.

    ``counts`` holds each answer value (level id, yes or no) in scale order; N/A and
    unanswered are kept apart and never count towards the share.
    """

    counts: Mapping[str, int]
    answered: int
    not_applicable: int
    unanswered: int
    good: Proportion

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able form."""
        return {
            "counts": dict(self.counts),
            "answered": self.answered,
            "not_applicable": self.not_applicable,
            "unanswered": self.unanswered,
            "good_or_better": self.good.as_dict(),
        }


@dataclass(frozen=True)
class Breakdown:
    """A distribution for the whole review and for each case type and team."""

    whole: Distribution
    by_case_type: Mapping[str, Distribution]
    by_team: Mapping[str, Distribution]

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able form."""
        return {
            "all": self.whole.as_dict(),
            "by_case_type": {k: v.as_dict() for k, v in self.by_case_type.items()},
            "by_team": {k: v.as_dict() for k, v in self.by_team.items()},
        }


@dataclass(frozen=True)
class QuestionResult:
    """Results for one question."""

    question: Question
    section_id: str
    breakdown: Breakdown


@dataclass(frozen=True)
class SectionResult:
    """Results for one section, counted in cases: its grade, or whether every check was met.

    ``basis`` is "grade" (the section's grade question, one per case), "checks" (a case
    counts as good when every yes/no check it answered in the section had the good answer)
    or "none" (no grade and no checks: nothing to count). For "checks", ``answers`` is the
    share of check answers that were good, a share of answers with an interval allowing for
    answers clustered within cases.
    """

    section: Section
    basis: str
    breakdown: Breakdown
    answers: Proportion | None = None

    @property
    def unit(self) -> str:
        """Say what the section's share counts ("cases")."""
        return self.breakdown.whole.good.unit


@dataclass(frozen=True)
class Aggregation:
    """Everything the findings are built from, for one review."""

    rubric: Rubric
    audited: int
    headline: Breakdown
    sections: tuple[SectionResult, ...]
    questions: tuple[QuestionResult, ...]
    critical: Mapping[str, int]
    case_types: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def question(self, question_id: str) -> QuestionResult:
        """Return one question's results."""
        for item in self.questions:
            if item.question.id == question_id:
                return item
        raise KeyError(question_id)

    def section(self, section_id: str) -> SectionResult:
        """Return one section's results."""
        for item in self.sections:
            if item.section.id == section_id:
                return item
        raise KeyError(section_id)


def _value_order(question: Question, rubric: Rubric) -> list[str]:
    if question.type == "grade":
        return [level.id for level in rubric.scale.levels]
    if question.type == "yes_no":
        return ["yes", "no"]
    return []


def _good_values(question: Question, rubric: Rubric) -> frozenset[str]:
    if question.type == "grade":
        return rubric.scale.good_or_better
    if question.type == "yes_no" and question.good_answer:
        return frozenset({question.good_answer})
    return frozenset()


class _Tally:
    """Counts for one question or judgement, split by (case type, team)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.na: dict[tuple[str, str], int] = defaultdict(int)
        self.eligible: dict[tuple[str, str], int] = defaultdict(int)

    def distribution(
        self, keys: Iterable[tuple[str, str]], order: Sequence[str], good: frozenset[str]
    ) -> Distribution:
        counts = dict.fromkeys(order, 0)
        na = eligible = 0
        for key in keys:
            for value, n in self.values.get(key, {}).items():
                counts[value] = counts.get(value, 0) + n
            na += self.na.get(key, 0)
            eligible += self.eligible.get(key, 0)
        answered = sum(counts.values())
        good_count = sum(n for value, n in counts.items() if value in good)
        return Distribution(
            counts=counts,
            answered=answered,
            not_applicable=na,
            unanswered=max(eligible - answered - na, 0),
            good=wilson(good_count, answered),
        )

    def breakdown(self, order: Sequence[str], good: frozenset[str]) -> Breakdown:
        keys = set(self.eligible) | set(self.values) | set(self.na)
        case_types = sorted({ct for ct, _ in keys})
        teams = sorted({team for _, team in keys})
        return Breakdown(
            whole=self.distribution(keys, order, good),
            by_case_type={
                ct: self.distribution({k for k in keys if k[0] == ct}, order, good)
                for ct in case_types
            },
            by_team={
                team: self.distribution({k for k in keys if k[1] == team}, order, good)
                for team in teams
            },
        )


def threshold_label(scale: Scale) -> str:
    """Name the share the rubric reports in its own words, e.g. "Adequate or better"."""
    levels = [(level.id, level.label) for level in scale.levels]
    leading = sum(1 for key, _ in levels if key in scale.good_or_better)
    return good_label(levels, leading) if leading else "Good or better"


def case_answer_questions(rubric: Rubric) -> list[str]:
    """Return the questions counted case by case: critical ones and checks of ungraded sections.

    A single critical question is left out: each case has one answer to it, so its answer
    counts already count cases (see ``_safeguarding``), and reading it audit by audit would
    cost a look-up per audit on every aggregation.
    """
    critical = rubric.critical_questions()
    ids = [q.id for q in critical] if len(critical) > 1 else []
    for section in rubric.sections:
        if not section.grade_question:
            ids.extend(q.id for q in section.questions if q.type == "yes_no")
    return sorted(set(ids))


def aggregate(
    rubric: Rubric,
    audits: Sequence[Mapping[str, Any]],
    answer_rows: Iterable[Mapping[str, Any]],
    grades_by_audit: Mapping[str, Mapping[str, str]] | None = None,
    critical: Mapping[str, int] | None = None,
    case_answers: Mapping[str, Mapping[str, str]] | None = None,
) -> Aggregation:
    """Aggregate the counted audits of a review.

    ``audits``: one mapping per counted audit (``audit_id``, ``case_type``, ``team``,
    ``sections_na``). ``answer_rows``: (question_id, value, not_applicable, case_type,
    team, n) counts with moderated values already applied. ``grades_by_audit``: effective
    grade answers per audit, needed only when the overall judgement is a rule over
    section grades. ``critical``: the safeguarding alerts (``alerts``, ``alert_cases``,
    ``recorded``). ``case_answers``: effective answers per audit ("na" for not applicable)
    to the questions of :func:`case_answer_questions`, from which sections without a grade
    are counted case by case and children not adequately safeguarded are counted.
    """
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    # Audits of the same case type and team with the same sections marked "does not apply"
    # ask the same questions: count each such shape once, not each audit.
    shapes = Counter((a["case_type"], a["team"] or "", frozenset(a["sections_na"])) for a in audits)
    for (case_type, team, sections_na), count in shapes.items():
        key = (case_type, team)
        for section in rubric.sections:
            if not section.applies(case_type):
                continue
            for question in section.questions:
                if not question.applies(case_type):
                    continue
                tally = tallies[question.id]
                tally.eligible[key] += count
                if section.id in sections_na:
                    tally.na[key] += count
    for row in answer_rows:
        tally = tallies[row["question_id"]]
        key = (row["case_type"], row["team"] or "")
        if row["not_applicable"]:
            tally.na[key] += row["n"]
        elif row["value"] is not None:
            tally.values[key][row["value"]] += row["n"]

    questions = tuple(
        QuestionResult(
            question=q,
            section_id=rubric.section_of(q.id).id,
            breakdown=tallies[q.id].breakdown(_value_order(q, rubric), _good_values(q, rubric)),
        )
        for q in rubric.questions
    )
    by_id = {item.question.id: item for item in questions}
    answers_by_audit = case_answers or {}
    sections = tuple(
        _section_result(section, audits, answers_by_audit, by_id) for section in rubric.sections
    )
    headline = _headline(rubric, audits, by_id, grades_by_audit or {})
    return Aggregation(
        rubric=rubric,
        audited=len(audits),
        headline=headline,
        sections=sections,
        questions=questions,
        critical=_safeguarding(rubric, audits, answers_by_audit, tallies, critical or {}),
        case_types=tuple(sorted({a["case_type"] for a in audits})),
        teams=tuple(sorted({a["team"] or "" for a in audits})),
    )


def _section_result(
    section: Section,
    audits: Sequence[Mapping[str, Any]],
    case_answers: Mapping[str, Mapping[str, str]],
    by_id: Mapping[str, QuestionResult],
) -> SectionResult:
    if section.grade_question:
        return SectionResult(section, "grade", by_id[section.grade_question].breakdown)
    checks = [q for q in section.questions if q.type == "yes_no"]
    if not checks:
        return SectionResult(section, "none", _Tally().breakdown(["yes", "no"], frozenset()))
    tally = _Tally()
    per_case: list[tuple[int, int]] = []
    for audit in audits:
        case_type = audit["case_type"]
        asked = [q for q in checks if q.applies(case_type)]
        if not section.applies(case_type) or not asked:
            continue
        key = (case_type, audit["team"] or "")
        tally.eligible[key] += 1
        if section.id in audit["sections_na"]:
            tally.na[key] += 1
            continue
        mine = case_answers.get(audit["audit_id"], {})
        given = [(q, mine[q.id]) for q in asked if q.id in mine]
        answered = [(q, value) for q, value in given if value != NOT_APPLICABLE]
        if not answered:
            if given:  # every check answered "not applicable"
                tally.na[key] += 1
            continue
        good = sum(1 for q, value in answered if value == q.good_answer)
        tally.values[key]["yes" if good == len(answered) else "no"] += 1
        per_case.append((good, len(answered)))
    return SectionResult(
        section,
        "checks",
        tally.breakdown(["yes", "no"], frozenset({"yes"})),
        answers=clustered_share(per_case),
    )


def _safeguarding(
    rubric: Rubric,
    audits: Sequence[Mapping[str, Any]],
    case_answers: Mapping[str, Mapping[str, str]],
    tallies: Mapping[str, _Tally],
    alerts: Mapping[str, int],
) -> dict[str, int]:
    """Count children not adequately safeguarded once, and the alerts raised, apart.

    With one critical question each case has one answer, so the adverse answers counted for
    it are the cases; with several, a case adverse on two must count once, case by case.
    """
    questions = rubric.critical_questions()
    if len(questions) == 1:
        (question,) = questions
        cases = sum(
            n
            for values in tallies[question.id].values.values()
            for value, n in values.items()
            if question.is_adverse(value)
        )
    else:
        cases = sum(
            1
            for audit in audits
            if any(
                q.is_adverse(case_answers.get(audit["audit_id"], {}).get(q.id)) for q in questions
            )
        )
    return {
        "cases": cases,
        "audited": len(audits),
        "alerts": int(alerts.get("alerts", 0)),
        "alert_cases": int(alerts.get("alert_cases", 0)),
        "recorded": int(alerts.get("recorded", 0)),
    }


SAFEGUARDING_DEFINITION = (
    "each case counted once, by the adverse answer to a critical question in its submitted "
    "first audit, as moderated"
)
ALERTS_DEFINITION = (
    "counting alerts from every audit of the review, second audits included, less any withdrawn"
)


def safeguarding_sentences(
    critical: Mapping[str, int], count: Callable[[str, int], str] | None = None
) -> list[str]:
    """Word children not adequately safeguarded and the alerts raised, the same on every surface.

    ``count(key, value)`` writes a count named by its key (``cases``, ``audited``, ``alerts``,
    ``alert_cases``, ``recorded``, ``waiting``); the public report passes one that withholds
    small counts. Singular or plural follows the count as printed, so a withheld 1 stays hidden.
    """

    def write(key: str, value: int) -> str:
        return count(key, value) if count else str(value)

    cases, audited = int(critical.get("cases", 0)), int(critical.get("audited", 0))
    alerts, recorded = int(critical.get("alerts", 0)), int(critical.get("recorded", 0))
    if cases:
        out = [
            f"In {write('cases', cases)} of the {write('audited', audited)} cases audited a "
            f"child was found not adequately safeguarded ({SAFEGUARDING_DEFINITION})."
        ]
    else:
        out = [
            f"No child was found not adequately safeguarded in the {write('audited', audited)} "
            f"cases audited ({SAFEGUARDING_DEFINITION})."
        ]
    if not alerts:
        out.append(f"No safeguarding alert was raised ({ALERTS_DEFINITION}).")
        return out
    alert_cases = int(critical.get("alert_cases", 0))
    missing = max(alerts - recorded, 0)
    printed_alerts, printed_cases = write("alerts", alerts), write("alert_cases", alert_cases)
    sentence = (
        f"{printed_alerts} safeguarding alert{' was' if printed_alerts == '1' else 's were'} "
        f"raised about {printed_cases} case{'' if printed_cases == '1' else 's'} "
        f"({ALERTS_DEFINITION}): "
    )
    if missing <= 0:
        sentence += (
            "the escalation to the responsible manager and the action taken are recorded for each."
        )
    else:
        printed_missing = write("waiting", missing)
        sentence += (
            f"the escalation and the action taken are recorded for {write('recorded', recorded)}; "
            f"{printed_missing} {'is' if printed_missing == '1' else 'are'} still to be recorded."
        )
    out.append(sentence)
    # A count written in words ("fewer than 5") may open a sentence.
    return [s[:1].upper() + s[1:] for s in out]


def describe_rubric(rubric: Rubric) -> list[str]:
    """Say what the audit tool asks and how its sections are counted, from the rubric itself."""
    graded = [s for s in rubric.sections if s.grade_question]
    checked = [s for s in rubric.sections if any(q.type == "yes_no" for q in s.questions)]
    levels = ", ".join(level.label for level in rubric.scale.levels)
    good = " and ".join(
        level.label for level in rubric.scale.levels if rubric.scale.is_good(level.id)
    )
    total = len(rubric.sections)

    def have(n: int) -> str:
        return f"{n} of the {total} sections {'has' if n == 1 else 'have'}"

    judged = [f"{have(len(graded))} a grade for the quality of practice"] if graded else []
    judged.append("each case has an overall judgement")
    out = [
        f"Quality is graded on the scale {levels}: {' and '.join(judged)}; "
        f"“{threshold_label(rubric.scale)}” counts {good}."
    ]
    if checked:
        out.append(f"{have(len(checked))} yes/no checks (compliance: was it done).")
    ungraded = [s for s in rubric.sections if not s.grade_question and s in checked]
    if ungraded:
        out.append(
            "A section without a grade counts the cases where every check answered was met; "
            "the share of check answers met is given beside it, with an interval that allows "
            "for answers from the same case going together."
        )
    return out


def measure_words(result: SectionResult, rubric: Rubric) -> str:
    """Say in words what a section's share counts, beside the figure on every surface."""
    if result.basis == "grade":
        return f"cases with the section graded {threshold_label(rubric.scale).lower()}"
    if result.basis == "checks":
        return "cases with every check met"
    return ""


def _headline(
    rubric: Rubric,
    audits: Sequence[Mapping[str, Any]],
    by_id: Mapping[str, QuestionResult],
    grades_by_audit: Mapping[str, Mapping[str, str]],
) -> Breakdown:
    """Return the overall judgement's distribution: the headline "good or better" share."""
    if rubric.overall.question:
        return by_id[rubric.overall.question].breakdown
    tally = _Tally()
    for audit in audits:
        key = (audit["case_type"], audit["team"] or "")
        tally.eligible[key] += 1
        judged = rubric.overall.judge(grades_by_audit.get(audit["audit_id"], {}), rubric)
        if judged is not None:
            tally.values[key][judged] += 1
    return tally.breakdown([level.id for level in rubric.scale.levels], rubric.scale.good_or_better)


def grade_questions_for_rule(rubric: Rubric) -> list[str]:
    """Return the section grade questions a rule-based overall judgement reads."""
    if rubric.overall.question:
        return []
    return [s.grade_question for s in rubric.sections if s.grade_question]


# --------------------------------------------------------------------------- suggestions


@dataclass(frozen=True)
class Suggestion:
    """A strength or area for development the numbers suggest, with its evidence."""

    key: str
    kind: str  # "strength" | "development"
    subject: str
    text: str
    question_ids: tuple[str, ...]
    good: Proportion
    critical: bool = False
    adverse: int | None = None
    """For a critical suggestion: how many answers were adverse (the count it words)."""

    def evidence(self) -> dict[str, Any]:
        """Return the numbers behind the suggestion, as stored with a curated finding."""
        evidence = {"key": self.key, **self.good.as_dict()}
        if self.adverse is not None:
            evidence["adverse"] = self.adverse
        return evidence


def percent(value: float | None) -> str:
    """Format a share as a whole percentage (e.g. 61%); "n/a" when there is none."""
    return "n/a" if value is None else f"{round(value * 100)}%"


def _phrase(rubric: Rubric, kind: str, subject: str, good: Proportion) -> str:
    wording = rubric.findings.wording[kind]
    if wording == DEFAULT_WORDING[kind]:  # the default speaks the rubric's own threshold
        wording = wording.replace("good or better", threshold_label(rubric.scale).lower())
    return wording.format_map(
        dict(
            subject=subject,
            share=percent(good.share),
            count=good.count,
            n=good.n,
            low=percent(good.low),
            high=percent(good.high),
        )
    )


def _checks_phrase(kind: str, subject: str, good: Proportion) -> str:
    """Word a section counted by its checks: the cases where every check was met."""
    only = "" if kind == "strength" else "only "
    return (
        f"{subject}: every check met in {only}{percent(good.share)} of the cases audited "
        f"({good.count} of {good.n} cases)."
    )


def _check_phrase(kind: str, subject: str, good_answer: str, good: Proportion) -> str:
    """Word a yes/no check: the rubric's wording speaks of grades, which a check has not."""
    only = "" if kind == "strength" else "only "
    return (
        f"“{subject}” {good_answer.capitalize()} in {only}{percent(good.share)} of the cases "
        f"audited ({good.count} of {good.n})."
    )


def suggest(agg: Aggregation) -> list[Suggestion]:
    """Suggest strengths and areas for development from the rubric's thresholds and wording.

    Sections come first (by their grade, or their checks pooled), then single questions that
    are not a section's grade; any adverse critical answer is always an area for development.
    """
    rubric = agg.rubric
    rules = rubric.findings
    out: list[Suggestion] = []
    for item in agg.sections:
        good = item.breakdown.whole.good
        kind = rules.suggestion(good.count, good.n) if item.basis != "none" else None
        if kind:
            ids = tuple(
                [item.section.grade_question]
                if item.basis == "grade" and item.section.grade_question
                else [q.id for q in item.section.questions if q.type == "yes_no"]
            )
            key = f"section:{item.section.id}"
            out.append(
                Suggestion(
                    key=key,
                    kind=kind,
                    subject=item.section.title,
                    text=suggestion_text(rubric, key, kind, good) or "",
                    question_ids=ids,
                    good=good,
                )
            )
    section_grades = {s.grade_question for s in rubric.sections if s.grade_question}
    for item in agg.questions:
        q = item.question
        if (
            q.type == "text"
            or q.critical
            or q.id in section_grades
            or q.id == rubric.overall.question
        ):
            continue
        good = item.breakdown.whole.good
        kind = rules.suggestion(good.count, good.n)
        if kind:
            key = f"question:{q.id}"
            out.append(
                Suggestion(
                    key=key,
                    kind=kind,
                    subject=" ".join(q.text.split()),
                    text=suggestion_text(rubric, key, kind, good) or "",
                    question_ids=(q.id,),
                    good=good,
                )
            )
    for q in rubric.critical_questions():
        item = agg.question(q.id)
        counts = item.breakdown.whole.counts
        adverse = sum(n for value, n in counts.items() if q.is_adverse(value))
        if adverse:
            good = item.breakdown.whole.good
            key = f"critical:{q.id}"
            out.append(
                Suggestion(
                    key=key,
                    kind="development",
                    subject=" ".join(q.text.split()),
                    text=suggestion_text(rubric, key, "development", good, adverse) or "",
                    question_ids=(q.id,),
                    good=good,
                    critical=True,
                    adverse=adverse,
                )
            )
    return out


def _subject(rubric: Rubric, key: str) -> tuple[str, Any] | None:
    """Return (what, the section or question) a suggestion's key names, or None."""
    what, _, ident = key.partition(":")
    try:
        if what == "section":
            return what, next(s for s in rubric.sections if s.id == ident)
        if what in ("question", "critical"):
            return what, rubric.question(ident)
    except (KeyError, LookupError, StopIteration):
        return None
    return None


def suggestion_text(
    rubric: Rubric, key: str, kind: str, good: Proportion, adverse: int | None = None
) -> str | None:
    """Word a suggestion in the tool's own words from its key and figures (None if unknown).

    A finding whose text is still exactly this is the tool's wording: the public report
    writes it again from the protected figures (:func:`public_suggestion_text`).
    """
    named = _subject(rubric, key)
    if named is None:
        return None
    what, thing = named
    if what == "section":
        if thing.grade_question:
            return _phrase(rubric, kind, thing.title, good)
        return _checks_phrase(kind, thing.title, good)
    subject = " ".join(thing.text.split())
    if what == "critical":
        if adverse is None:
            return None
        return rubric.findings.phrase(
            "critical",
            subject=subject,
            share=percent(good.share),
            count=adverse,
            n=good.n,
            low=percent(good.low),
            high=percent(good.high),
        )
    if thing.type == "yes_no":
        return _check_phrase(kind, subject, thing.good_answer or "yes", good)
    return _phrase(rubric, kind, subject, good)


def public_suggestion_text(rubric: Rubric, key: str, count: str, n: str) -> str | None:
    """Word a suggestion for the public version from figures already protected.

    ``count`` and ``n`` are written by the disclosure view ("fewer than 5", "24"; ``n`` empty
    when it is withheld), so the sentence never needs rewording: "Plans: fewer than 5 of the
    24 cases audited were good or better."
    """
    named = _subject(rubric, key)
    if named is None:
        return None
    what, thing = named
    of = f"{count} of the {n} cases audited" if n else f"{count} of the cases audited"
    if what == "section":
        if thing.grade_question:
            return f"{thing.title}: {of} were {threshold_label(rubric.scale).lower()}."
        return f"{thing.title}: every check met in {of}."
    subject = " ".join(thing.text.split())
    if what == "critical":
        return (
            f"{subject}: in {of} a child was found not adequately safeguarded; each must be "
            "escalated to the responsible manager the same day."
        )
    if thing.type == "yes_no":
        return f"“{subject}” {(thing.good_answer or 'yes').capitalize()} in {of}."
    return f"{subject}: {of} were {threshold_label(rubric.scale).lower()}."


def evidence_for(agg: Aggregation, question_ids: Sequence[str], key: str = "") -> dict[str, Any]:
    """Return current numbers for a finding's questions, to compare with a stored snapshot."""
    if key.startswith("section:"):
        good = agg.section(key.split(":", 1)[1]).breakdown.whole.good
    elif len(question_ids) == 1:
        good = agg.question(question_ids[0]).breakdown.whole.good
    else:
        # Answers to several questions, pooled: a share of answers, clustered within cases.
        shares = [agg.question(q).breakdown.whole.good for q in question_ids]
        count, n = sum(p.count for p in shares), sum(p.n for p in shares)
        good = share_of_answers(count, n, max(p.n for p in shares))
    return {"key": key, **good.as_dict()} if key else good.as_dict()
