"""Check a bundle against its own rubric and itself: answers fit questions, references resolve.

The schema (:mod:`audit.bundles.bundle_schema`) says what kind of value every key holds; this module
says whether the values make sense together: a grade is a level of the bundle's own scale, a
question applies to the case's case type, an escalation names a critical question, every id
a record mentions is in the bundle and no id appears twice. It reads the document defensively
(records that are not records are skipped, the schema has already named them), so every
problem is listed at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from audit.bundles.bundle_schema import show
from audit.rubric import NOT_APPLICABLE, YES_NO, Question, Rubric


def _records(doc: Mapping[str, Any], key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    items = doc.get(key)
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict):
            yield f"{key}[{i}]", item


def _allowed(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(values)


class _Checker:
    def __init__(self, doc: Mapping[str, Any], rubric: Rubric) -> None:
        self.doc = doc
        self.rubric = rubric
        self.problems: list[str] = []
        self.people = {
            str(p["username"]).casefold()
            for _, p in _records(doc, "people")
            if isinstance(p.get("username"), str)
        }

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def person(self, item: Mapping[str, Any], path: str, key: str, optional: bool = True) -> None:
        value = item.get(key)
        if value is None and optional:
            return
        if isinstance(value, str) and value.casefold() not in self.people:
            self.fail(f"{path}.{key}", f"{show(value)} is not listed in people")

    def refers(
        self, item: Mapping[str, Any], path: str, key: str, ids: set[str], what: str
    ) -> None:
        value = item.get(key)
        if isinstance(value, str) and value not in ids:
            self.fail(f"{path}.{key}", f"refers to {what} that is not in the bundle")

    def unique(self, key: str, field: str = "id", fold: bool = False) -> set[str]:
        """Name every repeated id in a list; return the ids present."""
        seen: Counter[str] = Counter()
        for path, item in _records(self.doc, key):
            value = item.get(field)
            if not isinstance(value, str):
                continue
            norm = value.casefold() if fold else value
            seen[norm] += 1
            if seen[norm] == 2:
                self.fail(f"{path}.{field}", f"{show(value)} appears more than once in {key}")
        return set(seen)

    def question(self, path: str, question_id: object) -> Question | None:
        if not isinstance(question_id, str):
            return None
        try:
            return self.rubric.question(question_id)
        except KeyError:
            self.fail(path, f"{show(question_id)} is not a question of the rubric")
            return None

    def value_problem(self, question: Question, value: object) -> str | None:
        """Say why a value cannot be an answer to this question, or None if it can."""
        if question.type == "grade":
            levels = tuple(level.id for level in self.rubric.scale.levels)
            if value not in levels:
                return f"{show(value)} is not a level of the scale ({_allowed(levels)})"
        elif question.type == "yes_no" and value not in YES_NO:
            return f"{show(value)} is not an answer to a yes/no question ({_allowed(YES_NO)})"
        elif not isinstance(value, str):
            return f"expected text, got {show(value)}"
        return None


def rubric_problems(doc: Mapping[str, Any], rubric: Rubric) -> list[str]:
    """List everything in a bundle that does not fit its own rubric or refers to nothing."""
    c = _Checker(doc, rubric)
    review = doc.get("review") if isinstance(doc.get("review"), dict) else {}
    c.person(review, "review", "created_by")
    c.unique("people", "username", fold=True)
    c.unique("members", "username", fold=True)
    for path, member in _records(doc, "members"):
        c.person(member, path, "username", optional=False)
    case_types = tuple(ct.id for ct in rubric.case_types)
    case_ids = c.unique("cases")
    c.unique("cases", "reference")
    c.unique("cases", "pseudonym")
    case_type_of: dict[str, str] = {}
    for path, case in _records(doc, "cases"):
        case_type = case.get("case_type")
        if isinstance(case_type, str) and case_type not in case_types:
            c.fail(
                f"{path}.case_type",
                f"{show(case_type)} is not a case type of the rubric ({_allowed(case_types)})",
            )
        elif isinstance(case_type, str) and isinstance(case.get("id"), str):
            case_type_of[case["id"]] = case_type
        for key in ("assigned_to", "second_assigned_to"):
            c.person(case, path, key)
    audit_ids = c.unique("audits")
    held = _check_audits(c, case_ids, audit_ids, case_type_of)
    _check_escalations(c, case_ids, audit_ids)
    _check_moderation(c, audit_ids, held)
    finding_ids = c.unique("findings")
    for path, finding in _records(doc, "findings"):
        c.refers(finding, path, "merged_into", finding_ids, "a finding")
        c.person(finding, path, "created_by")
        question_ids = finding.get("question_ids")
        for j, question_id in enumerate(question_ids if isinstance(question_ids, list) else []):
            c.question(f"{path}.question_ids[{j}]", question_id)
    c.unique("actions")
    note_ids: Counter[str] = Counter()
    for path, action in _records(doc, "actions"):
        c.refers(action, path, "finding_id", finding_ids, "a finding")
        c.refers(action, path, "audit_id", audit_ids, "an audit")
        c.person(action, path, "created_by")
        for note_path, note in _records(action, "notes"):
            c.person(note, f"{path}.{note_path}", "created_by")
            if isinstance(note.get("id"), str):
                note_ids[note["id"]] += 1
                if note_ids[note["id"]] == 2:
                    c.fail(f"{path}.{note_path}.id", f"{show(note['id'])} appears more than once")
    for path, entry in _records(doc, "history"):
        c.person(entry, path, "user")
    _check_themes(c, audit_ids, finding_ids)
    _check_calibration(c, case_ids, case_type_of)
    _check_voices(c, audit_ids, case_type_of)
    return c.problems


def _check_audits(
    c: _Checker, case_ids: set[str], audit_ids: set[str], case_type_of: Mapping[str, str]
) -> dict[tuple[str, str], object]:
    """Check audits and their answers; return what each audit holds, by (audit, question)."""
    sections = tuple(s.id for s in c.rubric.sections)
    held: dict[tuple[str, str], object] = {}
    for path, audit in _records(c.doc, "audits"):
        c.refers(audit, path, "case_id", case_ids, "a case")
        c.refers(audit, path, "earlier_audit_id", audit_ids, "an audit")
        c.person(audit, path, "reviewer", optional=False)
        case_type = case_type_of.get(str(audit.get("case_id")))
        not_applicable = audit.get("sections_not_applicable")
        for j, section_id in enumerate(not_applicable if isinstance(not_applicable, list) else []):
            if isinstance(section_id, str) and section_id not in sections:
                c.fail(
                    f"{path}.sections_not_applicable[{j}]",
                    f"{show(section_id)} is not a section of the rubric ({_allowed(sections)})",
                )
        answered: set[str] = set()
        for answer_path, answer in _records(audit, "answers"):
            where = f"{path}.{answer_path}"
            question = c.question(f"{where}.question_id", answer.get("question_id"))
            if question is None:
                continue
            if question.id in answered:
                c.fail(f"{where}.question_id", f"{show(question.id)} is answered twice")
            answered.add(question.id)
            if case_type is not None and not question.applies(case_type):
                c.fail(
                    f"{where}.question_id",
                    f"{show(question.id)} is not asked for a {case_type} case",
                )
            value = answer.get("value")
            if isinstance(audit.get("id"), str):
                held[(audit["id"], question.id)] = value
            if answer.get("not_applicable") is True:
                if not question.allow_na:
                    c.fail(f"{where}.not_applicable", f"{show(question.id)} cannot be N/A")
                if value not in (None, "", NOT_APPLICABLE):
                    c.fail(f"{where}.value", "an N/A answer holds no value")
                continue
            if value in (None, ""):
                continue
            problem = c.value_problem(question, value)
            if problem:
                c.fail(f"{where}.value", problem)
    return held


def _check_escalations(c: _Checker, case_ids: set[str], audit_ids: set[str]) -> None:
    case_of = {
        a["id"]: a.get("case_id")
        for _, a in _records(c.doc, "audits")
        if isinstance(a.get("id"), str)
    }
    c.unique("escalations")
    for path, item in _records(c.doc, "escalations"):
        c.refers(item, path, "audit_id", audit_ids, "an audit")
        c.refers(item, path, "case_id", case_ids, "a case")
        audit_id = item.get("audit_id")
        case_id = item.get("case_id")
        if audit_id in case_of and case_id in case_ids and case_of[audit_id] != case_id:
            c.fail(f"{path}.case_id", "is not the case of the escalation's audit")
        question = c.question(f"{path}.question_id", item.get("question_id"))
        if question is not None and not question.critical:
            critical = tuple(q.id for q in c.rubric.critical_questions())
            c.fail(
                f"{path}.question_id",
                f"{show(question.id)} is not a critical question ({_allowed(critical) or 'none'})",
            )
        for key in ("raised_by", "recorded_by", "withdrawn_by"):
            c.person(item, path, key, optional=key != "raised_by")


def _check_moderation(
    c: _Checker, audit_ids: set[str], held: Mapping[tuple[str, str], object]
) -> None:
    c.unique("moderation")
    moderated: dict[tuple[str, str], set[object]] = {}
    for path, item in _records(c.doc, "moderation"):
        c.refers(item, path, "audit_id", audit_ids, "an audit")
        c.person(item, path, "moderator", optional=False)
        if item.get("question_id") is None:
            continue
        question = c.question(f"{path}.question_id", item.get("question_id"))
        audit_id = item.get("audit_id")
        if question is None or audit_id not in audit_ids:
            continue
        key = (str(audit_id), question.id)
        earlier = moderated.setdefault(key, set())
        original = item.get("original_value")
        if original != held.get(key) and original not in earlier:
            c.fail(
                f"{path}.original_value",
                f"{show(original)} is not what the audit holds ({show(held.get(key))})",
            )
        value = item.get("moderated_value")
        problem = c.value_problem(question, value)
        if problem:
            c.fail(f"{path}.moderated_value", problem)
        earlier.add(value)


# Which keys a theme tag of each kind names, and what each must refer to.
_TAG_TARGETS = {
    "evidence": ("audit_id", "question_id"),
    "finding": ("finding_id",),
    "conversation": ("audit_id",),
}


def _check_themes(c: _Checker, audit_ids: set[str], finding_ids: set[str]) -> None:
    """Themes are unique by id and name; each tag names a theme and a note, finding or talk
    that are in the bundle."""
    theme_ids = c.unique("themes")
    c.unique("themes", "name", fold=True)
    answered = {
        (audit["id"], answer["question_id"])
        for _, audit in _records(c.doc, "audits")
        for _, answer in _records(audit, "answers")
        if isinstance(audit.get("id"), str) and isinstance(answer.get("question_id"), str)
    }
    talks = {item.get("audit_id") for _, item in _records(c.doc, "conversations")}
    seen: set[tuple[Any, ...]] = set()
    for path, tag in _records(c.doc, "theme_tags"):
        c.refers(tag, path, "theme_id", theme_ids, "a theme")
        c.person(tag, path, "tagged_by")
        kind = tag.get("kind")
        wanted = _TAG_TARGETS.get(kind) if isinstance(kind, str) else None
        if wanted is None:
            continue  # the schema has named the kind
        article = "an" if kind == "evidence" else "a"
        for key in ("audit_id", "question_id", "finding_id"):
            if key in wanted and not isinstance(tag.get(key), str):
                c.fail(f"{path}.{key}", f"{article} {kind} tag needs {key}")
            elif key not in wanted and key in tag:
                c.fail(f"{path}.{key}", f"{article} {kind} tag has no {key}")
        if kind == "finding":
            c.refers(tag, path, "finding_id", finding_ids, "a finding")
        else:
            c.refers(tag, path, "audit_id", audit_ids, "an audit")
            audit_id, question_id = tag.get("audit_id"), tag.get("question_id")
            if (
                kind == "evidence"
                and audit_id in audit_ids
                and isinstance(question_id, str)
                and (audit_id, question_id) not in answered
            ):
                c.fail(
                    f"{path}.question_id",
                    f"{show(question_id)} is not an answer of that audit in the bundle",
                )
            if kind == "conversation" and "conversations" in c.doc and audit_id not in talks:
                c.fail(f"{path}.audit_id", "refers to a conversation that is not in the bundle")
        key = tuple(
            tag.get(k) for k in ("kind", "theme_id", "audit_id", "question_id", "finding_id")
        )
        if key in seen:
            c.fail(path, "the same tag appears more than once in theme_tags")
        seen.add(key)


def _grade_problem(c: _Checker, question: Question, value: object) -> str | None:
    """Say why a value cannot be a calibration grade to this question (N/A where allowed)."""
    if value == NOT_APPLICABLE:
        return None if question.allow_na else f"{show(question.id)} cannot be N/A"
    return c.value_problem(question, value)


def _asked(c: _Checker, path: str, question_id: object, case_type: str | None) -> Question | None:
    """Return the question, naming at ``path`` one not in the rubric or not asked of the case."""
    question = c.question(path, question_id)
    if question is not None and case_type is not None and not question.applies(case_type):
        c.fail(path, f"{show(question.id)} is not asked for a {case_type} case")
    return question


def _check_calibration(c: _Checker, case_ids: set[str], case_type_of: Mapping[str, str]) -> None:
    """Check exercises: cases of the bundle, participants in people, grades fit and blind."""
    c.unique("calibration_exercises")
    for path, exercise in _records(c.doc, "calibration_exercises"):
        for key in ("created_by", "results_opened_by"):
            c.person(exercise, path, key)
        cases: set[str] = set()
        for case_path, case in _records(exercise, "cases"):
            where = f"{path}.{case_path}"
            c.refers(case, where, "case_id", case_ids, "a case")
            if isinstance(case.get("case_id"), str):
                if case["case_id"] in cases:
                    c.fail(f"{where}.case_id", "the case appears twice in the exercise")
                cases.add(case["case_id"])
        participants: set[str] = set()
        for person_path, person in _records(exercise, "participants"):
            where = f"{path}.{person_path}"
            c.person(person, where, "username", optional=False)
            if isinstance(person.get("username"), str):
                if person["username"] in participants:
                    c.fail(f"{where}.username", "the participant appears twice in the exercise")
                participants.add(person["username"])
        graded: set[tuple[str, ...]] = set()
        for grade_path, grade in _records(exercise, "grades"):
            where = f"{path}.{grade_path}"
            case_id, username = grade.get("case_id"), grade.get("username")
            if isinstance(case_id, str) and case_id not in cases:
                c.fail(f"{where}.case_id", "is not one of the exercise's cases")
            if isinstance(username, str) and username not in participants:
                c.fail(f"{where}.username", f"{show(username)} is not a participant")
            question = _asked(
                c, f"{where}.question_id", grade.get("question_id"), case_type_of.get(str(case_id))
            )
            if question is None:
                continue
            key = (str(case_id), str(username), question.id)
            if key in graded:
                c.fail(f"{where}.question_id", f"{show(question.id)} is graded twice by them")
            graded.add(key)
            if grade.get("value") not in (None, ""):
                problem = _grade_problem(c, question, grade.get("value"))
                if problem:
                    c.fail(f"{where}.value", problem)
        agreed: set[tuple[str, ...]] = set()
        for agreed_path, item in _records(exercise, "agreed"):
            where = f"{path}.{agreed_path}"
            case_id = item.get("case_id")
            if isinstance(case_id, str) and case_id not in cases:
                c.fail(f"{where}.case_id", "is not one of the exercise's cases")
            c.person(item, where, "agreed_by")
            question = _asked(
                c, f"{where}.question_id", item.get("question_id"), case_type_of.get(str(case_id))
            )
            if question is None:
                continue
            if (str(case_id), question.id) in agreed:
                c.fail(f"{where}.question_id", f"{show(question.id)} is agreed twice for the case")
            agreed.add((str(case_id), question.id))
            problem = _grade_problem(c, question, item.get("value"))
            if problem:
                c.fail(f"{where}.value", problem)
        if agreed and "results_opened_at" in exercise and exercise["results_opened_at"] is None:
            # Blindness: a panel agrees grades only once everyone's grades can be seen.
            c.fail(
                f"{path}.results_opened_at",
                "the exercise has agreed grades, so its results must be open (a time, not null)",
            )


def _check_voices(c: _Checker, audit_ids: set[str], case_type_of: Mapping[str, str]) -> None:
    """Check conversations and family feedback: audits of the bundle, sections of the rubric."""
    case_type_of_audit = {
        a["id"]: case_type_of.get(str(a.get("case_id")))
        for _, a in _records(c.doc, "audits")
        if isinstance(a.get("id"), str)
    }
    sections = {s.id: s for s in c.rubric.sections}
    section_ids = _allowed(tuple(sections))
    levels = tuple(level.id for level in c.rubric.scale.levels)
    c.unique("conversations", "audit_id")
    for path, item in _records(c.doc, "conversations"):
        c.refers(item, path, "audit_id", audit_ids, "an audit")
        c.person(item, path, "recorded_by")
        case_type = case_type_of_audit.get(str(item.get("audit_id")))
        seen: set[str] = set()
        for view_path, view in _records(item, "sections"):
            where = f"{path}.{view_path}"
            section_id = view.get("section_id")
            if not isinstance(section_id, str):
                continue
            section = sections.get(section_id)
            if section is None:
                c.fail(
                    f"{where}.section_id",
                    f"{show(section_id)} is not a section of the rubric ({section_ids})",
                )
                continue
            if section_id in seen:
                c.fail(f"{where}.section_id", f"{show(section_id)} is discussed twice")
            seen.add(section_id)
            if case_type is not None and not section.applies(case_type):
                c.fail(
                    f"{where}.section_id", f"{show(section_id)} is not asked for a {case_type} case"
                )
            if (
                isinstance(view.get("question_id"), str)
                and view["question_id"] != section.grade_question
            ):
                c.fail(
                    f"{where}.question_id",
                    f"{show(view['question_id'])} is not the grade question of {show(section_id)}"
                    f" ({show(section.grade_question)})",
                )
            if isinstance(view.get("grade"), str) and view["grade"] not in levels:
                c.fail(
                    f"{where}.grade",
                    f"{show(view['grade'])} is not a level of the scale ({_allowed(levels)})",
                )
            if view.get("agrees") == "no" and not str(view.get("practitioner_view") or "").strip():
                c.fail(
                    f"{where}.practitioner_view", "a disputed grade needs the practitioner's view"
                )
    c.unique("family_feedback", "audit_id")
    for path, item in _records(c.doc, "family_feedback"):
        c.refers(item, path, "audit_id", audit_ids, "an audit")
        c.person(item, path, "recorded_by")
        if item.get("consent") == "no":
            # Without consent to contact, nothing the family said is kept.
            said = {
                "contact_method": item.get("contact_method") not in (None, ""),
                "family_said": str(item.get("family_said") or "").strip() != "",
                "quote_included": item.get("quote_included") is True,
                **{
                    key: item.get(key, "not_asked") != "not_asked"
                    for key in ("felt_listened_to", "knows_plan", "life_better")
                },
            }
            for key, held in said.items():
                if held:
                    c.fail(f"{path}.{key}", "recorded without the family's consent to contact")
        elif item.get("quote_included") is True and not str(item.get("family_said") or "").strip():
            c.fail(f"{path}.quote_included", "there is nothing the family said to quote")
