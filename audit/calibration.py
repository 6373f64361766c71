"""Calibration panels: how far participants grading the same case agree, and each auditor's lean.

Plain Python, no Flask. Alpha is Krippendorff's (``audit.stats``), for any number of
participants with gaps: ordinal over the grade questions (with nominal and interval beside it,
so the published example can be checked), nominal over the yes/no questions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audit.reporting.charts import DotRow
from audit.rubric import NOT_APPLICABLE, Question, Rubric
from audit.scoring import Answer, adverse
from audit.stats import (
    REASON_NO_PAIRABLE,
    REASON_NO_PAIRS,
    REASON_NO_RATINGS,
    Statistic,
    exact_agreement,
    krippendorff_alpha,
)

NOT_APPLICABLE_LABEL = "Not applicable"
REASON_NOTHING_AGREED = "no answer has been agreed yet"
REASON_NOT_ANSWERED_AGREED = "no participant answered the questions agreed so far"
REASON_PARTICIPANT_NOT_ANSWERED = "this participant answered none of the agreed questions"
REASON_NOBODY_ANSWERED = "nobody has answered these questions yet"
REASON_NO_QUESTION_SHARED = "no question was answered by more than one participant"
FEW_ALPHA_QUESTIONS = 5
"""Below this many questions answered by two participants or more, alpha carries a caution."""
FEW_COMPARISONS = 20
"""Below this many comparisons a leniency figure carries a caution: one case can swing it."""


@dataclass(frozen=True)
class Unit:
    """One question of one case: every participant's answer, how far apart, what was agreed."""

    case_id: str
    pseudonym: str
    question: Question
    values: tuple[str | None, ...]  # in the order of the participants
    spread: int | None  # None when nobody answered: no spread to speak of
    agreed: str | None
    rationale: str

    @property
    def answered(self) -> list[str]:
        """Return the answers given, gaps left out."""
        return [v for v in self.values if v is not None]

    @property
    def unanswered(self) -> bool:
        """Tell whether nobody answered: nothing to compare, nothing to agree."""
        return not self.answered

    @property
    def disagree(self) -> bool:
        """Tell whether at least two participants answered differently ("N/A" included)."""
        return len(set(self.answered)) > 1

    @property
    def split_on_applying(self) -> bool:
        """Tell whether some said "not applicable" and others gave an answer."""
        given = set(self.answered)
        return NOT_APPLICABLE in given and len(given) > 1


@dataclass(frozen=True)
class Results:
    """Everything the results page, its JSON and the panel's agenda show."""

    participants: tuple[str, ...]
    units: tuple[Unit, ...]  # widest disagreement first
    alpha_grades: Mapping[str, Statistic]  # by level: ordinal (the headline), nominal, interval
    alpha_yes_no: Statistic
    agreement_with_agreed: Statistic
    agreement_by_participant: tuple[tuple[str, Statistic], ...]
    graded_by: tuple[tuple[str, int], ...] = ()  # (case pseudonym, participants who graded it)

    @property
    def who_graded(self) -> str:
        """Say truthfully how many participants graded each case, e.g. "Nobody graded C06."."""
        total = len(self.participants)
        groups: dict[int, list[str]] = {}
        for pseudonym, count in self.graded_by:
            groups.setdefault(count, []).append(pseudonym)
        sentences = []
        for count, cases in sorted(groups.items(), reverse=True):
            names = ", ".join(cases)
            if count == 0:
                sentences.append(f"Nobody graded {names}.")
            elif count == total:
                both = "Both" if total == 2 else f"All {total}"
                sentences.append(f"{both} participants graded {names}.")
            else:
                sentences.append(f"{count} of {total} participants graded {names}.")
        return " ".join(sentences)

    @property
    def compared(self) -> bool:
        """Tell whether any question was answered by two participants or more."""
        return any(len(unit.answered) > 1 for unit in self.units)

    @property
    def agreeable(self) -> list[Unit]:
        """Return the questions with no disagreement that someone answered, to agree directly."""
        return [unit for unit in self.units if not unit.disagree and not unit.unanswered]

    @property
    def agenda(self) -> list[Unit]:
        """Return the questions the panel must discuss: any disagreement, widest first."""
        return [unit for unit in self.units if unit.disagree]

    def as_dict(self, levels: Mapping[str, str]) -> dict[str, Any]:
        """Return the results as JSON-able values (grades by level id, labels beside them)."""
        return {
            "participants": list(self.participants),
            "krippendorff_alpha": {
                "grades": {level: _alpha_dict(s) for level, s in self.alpha_grades.items()},
                "yes_no_nominal": _alpha_dict(self.alpha_yes_no),
            },
            "exact_agreement_with_agreed": self.agreement_with_agreed.as_dict(),
            "exact_agreement_by_participant": {
                name: stat.as_dict() for name, stat in self.agreement_by_participant
            },
            "questions": [
                {
                    "case": unit.pseudonym,
                    "question_id": unit.question.id,
                    "question": unit.question.text,
                    "type": unit.question.type,
                    "grades": dict(zip(self.participants, unit.values, strict=True)),
                    "grade_labels": {
                        name: None if value is None else levels.get(value, value)
                        for name, value in zip(self.participants, unit.values, strict=True)
                    },
                    "spread": unit.spread,
                    "agreed": unit.agreed,
                    "agreed_label": levels.get(unit.agreed or "", unit.agreed),
                    "rationale": unit.rationale,
                }
                for unit in self.units
            ],
        }


def ranks(rubric: Rubric) -> dict[str, int]:
    """Return each level's step on the scale, 0 for the worst, so higher means better."""
    ordered = sorted(rubric.scale.levels, key=lambda level: level.value)
    return {level.id: step for step, level in enumerate(ordered)}


def same_question(host: Rubric, target: Rubric, question_id: str) -> bool:
    """Tell whether an exemplar agreed on ``host``'s question fits ``target``'s scoring form.

    A programme's exemplar is shown only where the review uses the same rubric (by id) and
    asks the same question, of the same type, on the same scale (level ids in order).
    """
    if host.id != target.id:
        return False
    try:
        theirs, ours = host.question(question_id), target.question(question_id)
    except KeyError:
        return False
    if theirs.type != ours.type:
        return False
    if ours.type != "grade":
        return True
    return [level.id for level in host.scale.levels] == [level.id for level in target.scale.levels]


def _value(answer: Answer | None) -> str | None:
    """Return the answer as a rating: "not applicable" is an answer ("na"), a blank is missing."""
    if answer is None:
        return None
    if answer.not_applicable or answer.value == NOT_APPLICABLE:
        return NOT_APPLICABLE
    return answer.value or None


def answer_labels(rubric: Rubric) -> dict[str, str]:
    """Return what a person reads for each answer id: the scale's labels, Yes, No, N/A."""
    levels = {level.id: level.label for level in rubric.scale.levels}
    return levels | {"yes": "Yes", "no": "No", NOT_APPLICABLE: NOT_APPLICABLE_LABEL}


def answer_choices(rubric: Rubric, question: Question) -> list[tuple[str, str]]:
    """Return the answers a panel may agree on: the question's own, with N/A where it allows."""
    if question.type == "grade":
        choices = [(level.id, level.label) for level in rubric.scale.levels]
    else:
        choices = [("yes", "Yes"), ("no", "No")]
    if question.allow_na:
        choices.append((NOT_APPLICABLE, NOT_APPLICABLE_LABEL))
    return choices


def adverse_cases(
    rubric: Rubric,
    cases: Sequence[Mapping[str, Any]],
    mine: Mapping[tuple[str, int], Mapping[str, Answer]],
    user_id: int,
) -> list[tuple[str, tuple[Question, ...]]]:
    """Return the cases whose critical questions this participant answered adversely.

    These are real case files: the participant must tell the responsible manager the same
    day, though a calibration grade is practice and raises no audit alert.
    """
    out = []
    for case in cases:
        answers = mine.get((case["id"], user_id), {})
        found = adverse(rubric, case["case_type"], answers)
        if found:
            out.append((case["pseudonym"], tuple(found)))
    return out


@dataclass(frozen=True)
class Gap:
    """One case a participant has not fully graded: how many of its questions lack an answer."""

    pseudonym: str
    missing: int
    questions: int

    @property
    def words(self) -> str:
        """Say what is ungraded, e.g. "C06: not graded" or "C05: 3 of 40 questions unanswered"."""
        if self.missing == self.questions:
            return f"{self.pseudonym}: not graded"
        return f"{self.pseudonym}: {self.missing} of {self.questions} questions unanswered"


def gaps(
    rubric: Rubric,
    cases: Sequence[Mapping[str, Any]],
    mine: Mapping[tuple[str, int], Mapping[str, Answer]],
    user_id: int,
) -> list[Gap]:
    """Return what the participant has left ungraded, case by case, before they submit.

    A question counts as graded once answered ("not applicable" included); written questions
    are left out, as they are from the results.
    """
    out = []
    for case in cases:
        answers = mine.get((case["id"], user_id), {})
        asked = [q for q in rubric.questions_for(case["case_type"]) if q.type != "text"]
        missing = sum(not (q.id in answers and answers[q.id].answered) for q in asked)
        if missing:
            out.append(Gap(case["pseudonym"], missing, len(asked)))
    return out


def _spread(
    question: Question, values: Iterable[str | None], step: Mapping[str, int]
) -> int | None:
    """Return how far apart the answers are: scale steps for grades, 1 for split yes/no.

    "Not applicable" is a category of its own: beside yes or no it splits a yes/no question;
    beside grades it has no place on the scale, so the spread counts the grades' steps only
    (the unit still ``disagree``s and goes on the agenda).
    """
    given = [v for v in values if v is not None]
    if not given:
        return None
    if len(set(given)) < 2:
        return 0
    if question.type == "grade":
        places = [step[v] for v in given if v in step]
        return max(places) - min(places) if places else 0
    return 1


def alpha_basis(stat: Statistic) -> str:
    """Say what an alpha rests on: how many questions two participants or more answered."""
    return f"{stat.n} question{'s' if stat.n != 1 else ''} answered by two participants or more"


def alpha_caution(stat: Statistic) -> str | None:
    """Say in plain words when an alpha rests on too few questions to lean on."""
    if stat.value is None or stat.n >= FEW_ALPHA_QUESTIONS:
        return None
    return (
        f"Rests on only {alpha_basis(stat)}: one question can swing it, "
        "so read it as a prompt for discussion, not a measure of the panel."
    )


def _alpha_dict(stat: Statistic) -> dict[str, Any]:
    """Return an alpha as JSON-able values with its caution, if it rests on very few questions."""
    return stat.as_dict() | {"caution": alpha_caution(stat)}


def _worded(stat: Statistic, wording: Mapping[str, str]) -> Statistic:
    """Return the statistic with its reason in a panel's words, not two auditors' cases."""
    if stat.reason in wording:
        return Statistic(stat.value, wording[stat.reason], stat.n)
    return stat


_ALPHA_WORDING = {
    REASON_NO_RATINGS: REASON_NOBODY_ANSWERED,
    REASON_NO_PAIRABLE: REASON_NO_QUESTION_SHARED,
}


def results(
    rubric: Rubric,
    cases: Sequence[Mapping[str, Any]],
    participants: Sequence[tuple[int, str]],
    grades: Mapping[tuple[str, int], Mapping[str, Answer]],
    agreed: Mapping[tuple[str, str], Mapping[str, Any]],
) -> Results:
    """Work out the panel's results from everyone's grades and the agreed grades.

    ``cases`` are the exercise's case files (id, pseudonym, case_type) in order;
    ``participants`` are (user id, name); ``grades`` is keyed by (case id, user id);
    ``agreed`` by (case id, question id).
    """
    step = ranks(rubric)
    order = {question.id: i for i, question in enumerate(rubric.questions)}
    units: list[tuple[int, int, Unit]] = []
    for position, case in enumerate(cases):
        for question in rubric.questions_for(case["case_type"]):
            if question.type == "text":
                continue
            values = tuple(
                _value(grades.get((case["id"], user_id), {}).get(question.id))
                for user_id, _name in participants
            )
            decided = agreed.get((case["id"], question.id))
            unit = Unit(
                case_id=case["id"],
                pseudonym=case["pseudonym"],
                question=question,
                values=values,
                spread=_spread(question, values, step),
                agreed=decided["value"] if decided else None,
                rationale=decided["rationale"] if decided else "",
            )
            units.append((position, order[question.id], unit))
    units.sort(
        key=lambda item: (
            -(item[2].spread if item[2].spread is not None else -1),
            -len(set(item[2].answered)),
            item[0],
            item[1],
        )
    )
    ordered = tuple(unit for _, _, unit in units)
    graded_by = tuple(
        (
            case["pseudonym"],
            sum(
                any(u.values[i] is not None for u in ordered if u.case_id == case["id"])
                for i in range(len(participants))
            ),
        )
        for case in cases
    )

    graded = [unit for unit in ordered if unit.question.type == "grade"]
    categories = sorted(step, key=step.__getitem__)
    value_of = {level.id: level.value for level in rubric.scale.levels}
    # "Not applicable" has no place on the scale: ordinal and interval alpha leave it out,
    # nominal alpha counts it as one more category.
    on_scale = [[v if v in step else None for v in u.values] for u in graded]
    alpha_grades = {
        "ordinal": krippendorff_alpha(on_scale, "ordinal", categories),
        "nominal": krippendorff_alpha(
            [u.values for u in graded], "nominal", [*categories, NOT_APPLICABLE]
        ),
        "interval": krippendorff_alpha(
            [[None if v is None else value_of[v] for v in values] for values in on_scale],
            "interval",
        ),
    }
    alpha_grades = {level: _worded(s, _ALPHA_WORDING) for level, s in alpha_grades.items()}
    yes_no = [unit.values for unit in ordered if unit.question.type == "yes_no"]
    alpha_yes_no = _worded(
        krippendorff_alpha(yes_no, "nominal", ["yes", "no", NOT_APPLICABLE]), _ALPHA_WORDING
    )

    decided_units = [unit for unit in ordered if unit.agreed is not None]
    nothing = REASON_NOTHING_AGREED
    by_participant = tuple(
        (
            name,
            _worded(
                exact_agreement([(unit.values[i], unit.agreed) for unit in decided_units]),
                {REASON_NO_PAIRS: REASON_PARTICIPANT_NOT_ANSWERED if decided_units else nothing},
            ),
        )
        for i, (_user_id, name) in enumerate(participants)
    )
    overall = _worded(
        exact_agreement([(value, unit.agreed) for unit in decided_units for value in unit.values]),
        {REASON_NO_PAIRS: REASON_NOT_ANSWERED_AGREED if decided_units else nothing},
    )
    return Results(
        participants=tuple(name for _, name in participants),
        units=ordered,
        alpha_grades=alpha_grades,
        alpha_yes_no=alpha_yes_no,
        agreement_with_agreed=overall,
        agreement_by_participant=by_participant,
        graded_by=graded_by,
    )


def dot_rows(units: Iterable[Unit], *, case_label: bool) -> list[DotRow]:
    """Return a dot-plot row per question: how many participants gave each answer."""
    rows = []
    for unit in units:
        counts: dict[str, int] = {}
        for value in unit.answered:
            counts[value] = counts.get(value, 0) + 1
        label = f"{unit.pseudonym}: {unit.question.text}" if case_label else unit.question.text
        rows.append(DotRow(label, counts, unit.agreed))
    return rows


@dataclass(frozen=True)
class Leniency:
    """How an auditor's grades sit against the agreed or moderated grade, on average."""

    user_id: int
    name: str
    mean: float
    comparisons: int
    from_calibration: int
    from_moderation: int

    @property
    def caution(self) -> str | None:
        """Say in plain words when the figure rests on too few comparisons to lean on."""
        if self.comparisons >= FEW_COMPARISONS:
            return None
        return (
            f"Based on only {self.comparisons} comparison{'s' if self.comparisons != 1 else ''}: "
            "one case can move this a lot, so treat it as a question to talk about, "
            "not a finding."
        )

    @property
    def figure(self) -> str:
        """Return the average difference as shown, to 2 places, signed ("+0.25", "-0.25")."""
        shown = f"{abs(self.mean):.2f}"
        if float(shown) == 0:
            return shown
        return ("+" if self.mean > 0 else "-") + shown

    @property
    def words(self) -> str:
        """Describe the lean in plain words, rounded as the figure is so the two agree."""
        shown = f"{abs(self.mean):.2f}"
        if float(shown) == 0:
            return "In line with the agreed grades on average"
        direction = "more generous" if self.mean > 0 else "harsher"
        return f"{shown} scale steps {direction} than the agreed grade on average"

    def as_dict(self) -> dict[str, Any]:
        """Return the figure as JSON-able values."""
        return {
            "auditor": self.name,
            "mean_signed_difference": self.mean,
            "comparisons": self.comparisons,
            "from_calibration": self.from_calibration,
            "from_moderation": self.from_moderation,
            "caution": self.caution,
        }


def leniency(rows: Iterable[Mapping[str, Any]], rubrics: Mapping[str, Rubric]) -> list[Leniency]:
    """Return each auditor's average signed difference, in scale steps, from the agreed grade.

    Positive means more generous than the panel or moderator. Only grade questions count;
    ``rubrics`` maps review id to that review's rubric, whose scale sets the steps.
    """
    totals: dict[int, dict[str, Any]] = {}
    steps = {review_id: ranks(rubric) for review_id, rubric in rubrics.items()}
    graded = {
        review_id: {q.id for q in rubric.questions if q.type == "grade"}
        for review_id, rubric in rubrics.items()
    }
    for row in rows:
        step = steps.get(row["review_id"])
        if step is None or row["question_id"] not in graded[row["review_id"]]:
            continue
        own, reference = row["own"], row["reference"]
        if own not in step or reference not in step:
            continue
        entry = totals.setdefault(
            row["user_id"],
            {"name": row["display_name"], "sum": 0, "n": 0, "calibration": 0, "moderation": 0},
        )
        entry["sum"] += step[own] - step[reference]
        entry["n"] += 1
        entry[row["source"]] += 1
    out = [
        Leniency(
            user_id=user_id,
            name=entry["name"],
            mean=entry["sum"] / entry["n"],
            comparisons=entry["n"],
            from_calibration=entry["calibration"],
            from_moderation=entry["moderation"],
        )
        for user_id, entry in totals.items()
    ]
    out.sort(key=lambda item: (-abs(item.mean), item.name.lower()))
    return out


@dataclass(frozen=True)
class Shown:
    """One exercise as one person may see it in a download: everyone's grades, theirs, or none.

    ``results`` is worked out over the participants whose grades are shown, so before
    results open neither alpha nor spread exists to give anyone else's grades away.
    """

    exercise_id: str
    title: str
    created_at: str
    results_opened_at: str | None
    cases: tuple[str, ...]  # pseudonyms
    participants: tuple[tuple[str, str | None], ...]  # (name, submitted at), everyone
    shown: str  # "all" | "own" | "none"
    shown_ids: tuple[int, ...]  # whose grades ``results`` holds, in its order
    results: Results
    grades: Mapping[tuple[str, int], Mapping[str, Answer]]

    @property
    def everyone(self) -> bool:
        """Tell whether the figures across participants (alpha, spread, agenda) may be shown."""
        return self.shown == "all"

    def evidence(self, unit: Unit, position: int) -> str:
        """Return the note a shown participant wrote beside one answer."""
        answer = self.grades.get((unit.case_id, self.shown_ids[position]), {}).get(unit.question.id)
        return answer.evidence if answer is not None and answer.evidence else ""


def agenda_positions(results: Results) -> dict[tuple[str, str], int]:
    """Return each agenda item's place (1 first) keyed by (case id, question id)."""
    return {(unit.case_id, unit.question.id): n for n, unit in enumerate(results.agenda, start=1)}


def shown_as_dict(item: Shown, levels: Mapping[str, str]) -> dict[str, Any]:
    """Return one exercise for the findings JSON, holding back what its reader may not see."""
    out: dict[str, Any] = {
        "id": item.exercise_id,
        "title": item.title,
        "created_at": item.created_at,
        "results_open": item.results_opened_at is not None,
        "results_opened_at": item.results_opened_at,
        "cases": list(item.cases),
        "participants": [
            {"name": name, "submitted": submitted is not None}
            for name, submitted in item.participants
        ],
        "grades_shown": item.shown,
    }
    if item.everyone:
        positions = agenda_positions(item.results)
        body = item.results.as_dict(levels)
        for question, unit in zip(body["questions"], item.results.units, strict=True):
            question["agenda_position"] = positions.get((unit.case_id, unit.question.id))
        return out | body
    if item.shown == "own":
        out["own_grades"] = [
            {
                "case": unit.pseudonym,
                "question_id": unit.question.id,
                "question": unit.question.text,
                "type": unit.question.type,
                "grade": unit.values[0],
            }
            for unit in item.results.units
            if unit.values[0] is not None
        ]
    return out
