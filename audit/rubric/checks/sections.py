"""Checks of sections and their questions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.rubric.checks.answers import AnswerChecks
from audit.rubric.checks.base import _SLUG, _at, _describe, _line, _one_of, _SectionContext
from audit.rubric.loading import _short
from audit.rubric.model import KEYS, MAX_QUESTIONS, QUESTION_TYPES, Question, Section

_AGENCY_ID = _SLUG


class SectionChecks(AnswerChecks):
    """Check sections, questions and each section's grade question."""

    def sections(self, root: Mapping[Any, Any]) -> tuple[Section, ...]:
        """Return the sections, refusing a rubric with more questions than the limit."""
        items = self.sequence(root, "", "sections", what="sections")
        if items is None:
            return ()
        total = sum(
            len(item["questions"])
            for item in items
            if isinstance(item, dict) and isinstance(item.get("questions"), list)
        )
        if total > MAX_QUESTIONS:
            self.add(
                "sections",
                f"{total} questions is more than the limit of {MAX_QUESTIONS}",
                _line(root, "sections"),
            )
            return ()
        result: list[Section] = []
        seen: dict[str, str] = {}
        for i, item in enumerate(items):
            section = self.section(item, _at("sections", i), _line(items, i), seen)
            if section is not None:
                result.append(section)
        return tuple(result)

    def section(
        self, item: Any, path: str, line: int | None, seen: dict[str, str]
    ) -> Section | None:
        """Return one section with its questions, checking its grade_question."""
        m = self.mapping(item, path, line, *KEYS["section"])
        if m is None:
            return None
        section_id = self.slug(m, path)
        self.unique(seen, section_id, _at(path, "id"), "section", _line(m, "id"))
        title = self.text(m, path, "title")
        description = self.text(m, path, "description", required=False) or ""
        applies_to = self.applies_to(m, path)
        compulsory = self.flag(m, path, "compulsory", False)
        grade_question = self.text(m, path, "grade_question", required=False) or None
        agencies = self.agencies(m, path)
        context = _SectionContext(applies_to, compulsory, path, agencies)
        questions: list[Question] = []
        items = self.sequence(m, path, "questions", what="questions")
        for j, q_item in enumerate(items or ()):
            question = self.question(
                q_item, _at(_at(path, "questions"), j), _line(items, j), context
            )
            if question is not None:
                questions.append(question)
        section = Section(
            section_id or "",
            title or "",
            description,
            applies_to,
            compulsory,
            grade_question,
            tuple(questions),
            agencies,
        )
        for question in questions:
            self.questions[question.id] = (section, question, self.question_paths[question.id])
        if grade_question is not None:
            gp, gl = _at(path, "grade_question"), _line(m, "grade_question")
            own = {q.id: q for q in questions}
            if grade_question in own:
                if own[grade_question].type not in ("grade", ""):
                    self.add(
                        gp,
                        f'question "{grade_question}" is a {own[grade_question].type} question;'
                        " the section's grade must be a grade question",
                        gl,
                    )
            elif grade_question in self.question_paths:
                self.add(
                    gp,
                    f'question "{grade_question}" is at {self.question_paths[grade_question]},'
                    " not in this section",
                    gl,
                )
            elif items is not None and len(questions) == len(items):
                self.add(gp, f'no question "{_short(grade_question)}" in this section', gl)
        return section

    def agencies(self, m: Mapping[Any, Any], path: str) -> frozenset[str] | None:
        """Return the agency ids a section lists (who answers it), or None for the panel's."""
        items = self.sequence(m, path, "agencies", what="agency ids such as police")
        if items is None:
            return None
        p = _at(path, "agencies")
        ids: list[str] = []
        for i, item in enumerate(items):
            ip, il = _at(p, i), _line(items, i)
            value = item.strip() if isinstance(item, str) else None
            if value is None or not _AGENCY_ID.fullmatch(value):
                self.add(
                    ip,
                    f"{_describe(item)} is not an agency id: use lower-case letters, digits,"
                    ' "_" and "-", for example police or health_visiting',
                    il,
                )
            elif value in ids:
                self.add(ip, f'agency "{value}" is listed twice', il)
            else:
                ids.append(value)
        return frozenset(ids) if ids else None

    def question(
        self, item: Any, path: str, line: int | None, context: _SectionContext
    ) -> Question | None:
        """Return one question, checking every rule that depends on its type."""
        m = self.mapping(item, path, line, *KEYS["question"])
        if m is None:
            return None
        question_id = self.slug(m, path)
        unique = self.unique(
            self.question_paths, question_id, _at(path, "id"), "question", _line(m, "id")
        )
        text = self.text(m, path, "text")
        hint = self.text(m, path, "hint", required=False) or ""
        q_type = self.text(m, path, "type")
        if q_type is not None and q_type not in QUESTION_TYPES:
            self.add(
                _at(path, "type"),
                f'unknown question type "{_short(q_type)}";'
                f" expected one of: {_one_of(QUESTION_TYPES)}",
                _line(m, "type"),
            )
            q_type = None
        required = self.flag(m, path, "required", True)
        allow_na = self.flag(m, path, "allow_na", False)
        critical = self.flag(m, path, "critical", False)
        applies_to = self.applies_to(m, path, within=context.applies_to)
        good_answer = self.good_answer(m, path, q_type)
        evidence = self.evidence(m, path, q_type)
        guidance = self.guidance(m, path, q_type)
        adverse_answer = self.adverse_answer(m, path, q_type, critical, good_answer)
        adverse_levels = self.adverse_levels(m, path, q_type, critical)
        if critical:
            self.critical_rules(m, path, q_type, required, allow_na, applies_to, context)
        each_agency = self.flag(m, path, "each_agency", False)
        if each_agency and context.agencies is not None:
            self.add(
                _at(path, "each_agency"),
                "each_agency is for a question of a section the panel answers (one without"
                " agencies); every question of a section with agencies is already answered by"
                " each of those agencies",
                _line(m, "each_agency"),
            )
        if not unique or question_id is None:
            return None
        return Question(
            id=question_id,
            text=text or "",
            hint=hint,
            type=q_type or "",  # "" only while invalid: the rubric is then rejected
            required=required,
            allow_na=allow_na,
            applies_to=applies_to,
            evidence=evidence,
            critical=critical,
            good_answer=good_answer,
            adverse_answer=adverse_answer,
            adverse_levels=adverse_levels,
            guidance=guidance,
            each_agency=each_agency,
        )
