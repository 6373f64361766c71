"""Calibration panels: set one up, grade blind, see how far the panel agrees, agree the grades.

An exercise lives in a review (its leads run it, its members take part) or in a programme
(any lead runs it from the programme page, anyone may take part; it is hosted by one of the
programme's reviews, whose rubric and case files it uses). The same view functions serve
both; a ``Scope`` says which, and builds the URLs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from audit import calibration, policy, scoring
from audit.data import calibration as calibration_data
from audit.data import programmes, users
from audit.data import reviews as review_data
from audit.forms import ActionForm, AgreedGradeForm, CalibrationForm, ProgrammeCalibrationForm
from audit.reporting import charts
from audit.rubric import Question
from audit.scoring import applicable
from audit.views import get_db, place, requires
from audit.views.scoring_form import answers_from, build_form_class, form_data

bp = Blueprint("calibration", __name__)
PREFIX = "/reviews/<review_id>/calibration"
PROGRAMME = "/programmes/<programme_id>/calibration"


@dataclass(frozen=True)
class Scope:
    """Where an exercise lives, who runs it, and how to link to its pages."""

    review: Any  # the hosting review (its rubric and case files); None on a programme's list
    programme: dict[str, Any] | None
    manage: bool
    review_role: str | None

    @property
    def title(self) -> str:
        """Return the name of what the exercise belongs to, for captions."""
        return self.programme["title"] if self.programme else self.review.title

    def url(self, name: str, **values: Any) -> str:
        """Return the URL of one of the exercise's pages in this scope."""
        if self.programme is None:
            return url_for(f"calibration.{name}", review_id=self.review.id, **values)
        return url_for(f"calibration.programme_{name}", programme_id=self.programme["id"], **values)

    @property
    def back(self) -> tuple[str, str]:
        """Return where the list of exercises leads back to: the review or the programme."""
        if self.programme is None:
            return url_for("reviews.review_page", review_id=self.review.id), "Back to the review"
        if policy.allowed(g.user, "programmes.manage"):
            url = url_for("programmes.programme_page", programme_id=self.programme["id"])
            return url, "Back to the programme"
        return url_for("reviews.review_list"), "Back to your reviews"


def _review_scope() -> Scope:
    manage = policy.manages_exercise(g.user, g.review_role, programme=False)
    return Scope(g.review, None, manage, g.review_role)


def _programme(programme_id: str) -> dict[str, Any]:
    try:
        return programmes.get(get_db(), programme_id)
    except programmes.ProgrammeNotFound:
        abort(404)


def _programme_scope(programme_id: str, review: Any = None) -> Scope:
    manage = policy.manages_exercise(g.user, None, programme=True)
    return Scope(review, _programme(programme_id), manage, None)


def _check(scope: Scope, exercise: calibration_data.Exercise) -> calibration_data.Exercise:
    """Refuse (403) someone who neither runs nor takes part in the exercise."""
    participant = exercise.participant(g.user.id) is not None
    if not policy.may_see_exercise(
        g.user, scope.review_role, participant, programme=scope.programme is not None
    ):
        abort(403)
    return exercise


def _in_review(review_id: str, exercise_id: str) -> tuple[Scope, calibration_data.Exercise]:
    """Load the review's own exercise (404 if not this review's) for someone who may open it."""
    try:
        exercise = calibration_data.get(get_db(), exercise_id, review_id)
    except calibration_data.ExerciseNotFound:
        abort(404)
    scope = _review_scope()
    return scope, _check(scope, exercise)


def _in_programme(programme_id: str, exercise_id: str) -> tuple[Scope, calibration_data.Exercise]:
    """Load the programme's exercise (404 if not this programme's) for someone who may open it."""
    _programme(programme_id)
    try:
        exercise = calibration_data.get_in_programme(get_db(), exercise_id, programme_id)
    except calibration_data.ExerciseNotFound:
        abort(404)
    scope = _programme_scope(programme_id, review_data.get(get_db(), exercise.review_id))
    return scope, _check(scope, exercise)


def _participating(exercise: calibration_data.Exercise) -> calibration_data.Participant:
    participant = exercise.participant(g.user.id)
    if participant is None:
        abort(403)
    return participant


def _may_see_grades(scope: Scope, exercise: calibration_data.Exercise) -> bool:
    return policy.may_see_calibration_grades(
        g.user,
        scope.review_role,
        exercise.participant(g.user.id) is not None,
        exercise.results_open,
        programme=scope.programme is not None,
    )


def _list(scope: Scope, exercises: list[calibration_data.Exercise]) -> str:
    shown = [e for e in exercises if scope.manage or e.participant(g.user.id) is not None]
    # A review's list also points to the programme panels this user grades in.
    panels = [] if scope.programme else calibration_data.programme_panels_for(get_db(), g.user.id)
    return render_template(
        "calibration/list.html",
        scope=scope,
        exercises=shown,
        manage=scope.manage,
        panels=panels,
    )


@bp.route(PREFIX)
@requires("calibration.view")
def exercise_list(review_id: str) -> str:
    """List the calibration exercises this user runs or takes part in."""
    return _list(_review_scope(), calibration_data.for_review(get_db(), review_id))


@bp.route(PROGRAMME)
@requires("calibration.programme_take_part")
def programme_exercise_list(programme_id: str) -> str:
    """List the programme's calibration exercises this user runs or takes part in."""
    scope = _programme_scope(programme_id)
    return _list(scope, calibration_data.for_programme(get_db(), programme_id))


def _create(scope: Scope, form: CalibrationForm, review_id: str) -> Response | None:
    """Create the exercise the valid form describes; None (errors on the form) if refused."""
    try:
        exercise_id = calibration_data.create(
            get_db(),
            review_id,
            title=form.title.data,
            case_ids=form.cases.data,
            participant_ids=[int(p) for p in form.participants.data],
            by=g.user.id,
            programme_id=scope.programme["id"] if scope.programme else None,
        )
    except calibration_data.DuplicateExercise as twin:
        # The same form sent twice (Back, then Create again): show the one already made.
        flash(
            "This exercise already exists, with the same title, case files and participants,"
            " so no second copy was made. To run the same panel again, give it another title."
        )
        return redirect(scope.url("exercise_page", exercise_id=twin.exercise_id))
    except ValueError as problem:
        form.title.errors = [*form.title.errors, str(problem)]
        return None
    flash("Calibration exercise created. Participants can now grade the case files.")
    return redirect(scope.url("exercise_page", exercise_id=exercise_id))


@bp.route(f"{PREFIX}/new", methods=["GET", "POST"])
@requires("calibration.manage")
def exercise_new(review_id: str) -> str | Response:
    """Set up an exercise: a few of the review's case files and the people who grade them."""
    db = get_db()
    scope = _review_scope()
    form = CalibrationForm()
    form.cases.choices = [
        SelectChoice(c["id"], f"{c['pseudonym']} ({c['reference']})")
        for c in review_data.case_files(db, review_id)
    ]
    form.participants.choices = [
        SelectChoice(str(m["id"]), f"{m['display_name']} ({m['role']})")
        for m in review_data.members(db, review_id)
        if m["active"]
    ]
    if form.validate_on_submit() and (done := _create(scope, form, review_id)):
        return done
    return render_template("calibration/new.html", scope=scope, form=form)


@bp.route(f"{PROGRAMME}/new", methods=["GET", "POST"])
@requires("calibration.programme_manage")
def programme_exercise_new(programme_id: str) -> str | Response:
    """Set up a programme's exercise: case files from one of its reviews, anyone to grade."""
    db = get_db()
    scope = _programme_scope(programme_id)
    hosts = {}
    choices = []
    review_ids = programmes.review_ids(db, programme_id)
    for review_id in review_ids:
        review = review_data.get(db, review_id)
        for c in review_data.case_files(db, review_id):
            hosts[c["id"]] = review_id
            label = f"{review.title}: {c['pseudonym']} ({c['reference']})"
            choices.append(SelectChoice(c["id"], label))
    form = ProgrammeCalibrationForm()
    form.cases.choices = choices
    form.participants.choices = [
        SelectChoice(str(u.id), f"{u.display_name} ({u.role})")
        for u in users.all_users(db)
        if u.active and u.role
    ]
    if form.validate_on_submit():
        chosen = {hosts[case_id] for case_id in form.cases.data}
        if len(chosen) > 1:
            form.cases.errors = [
                "Choose case files from one review: the exercise uses that review's rubric"
            ]
        elif done := _create(scope, form, chosen.pop()):
            return done
    return render_template(
        "calibration/new.html", scope=scope, form=form, has_reviews=bool(review_ids)
    )


def _exercise_page(scope: Scope, exercise: calibration_data.Exercise) -> str:
    me = exercise.participant(g.user.id)
    mine = calibration_data.grades(get_db(), exercise.id, user_id=g.user.id) if me else {}
    return render_template(
        "calibration/exercise.html",
        scope=scope,
        exercise=exercise,
        me=me,
        started={case_id for case_id, _user in mine},
        gaps=calibration.gaps(scope.review.rubric, exercise.cases, mine, g.user.id) if me else [],
        adverse=calibration.adverse_cases(scope.review.rubric, exercise.cases, mine, g.user.id),
        manage=scope.manage,
        may_see_grades=_may_see_grades(scope, exercise),
        deletable=_deletable(exercise)[1],
        action_form=ActionForm(),
    )


@bp.route(f"{PREFIX}/<exercise_id>")
@requires("calibration.view")
def exercise_page(review_id: str, exercise_id: str) -> str:
    """Show the exercise: who has submitted, and the participant's own cases to grade."""
    return _exercise_page(*_in_review(review_id, exercise_id))


@bp.route(f"{PROGRAMME}/<exercise_id>")
@requires("calibration.programme_take_part")
def programme_exercise_page(programme_id: str, exercise_id: str) -> str:
    """Show a programme's exercise: who has submitted, and the participant's own cases."""
    return _exercise_page(*_in_programme(programme_id, exercise_id))


def _grade_case(scope: Scope, exercise: calibration_data.Exercise, case_id: str) -> str | Response:
    me = _participating(exercise)
    case = exercise.case(case_id)
    if case is None:
        abort(404)
    exercise_id = exercise.id
    full_case = review_data.case_file(get_db(), case_id, exercise.review_id)
    rubric = scope.review.rubric
    form_class = build_form_class(rubric, case["case_type"])
    mine = calibration_data.grades(get_db(), exercise_id, user_id=g.user.id).get(
        (case_id, g.user.id), {}
    )
    locked = me.submitted_at is not None or exercise.results_open
    if request.method == "POST" and not locked:
        form = form_class()
        if form.validate_on_submit():
            answers = answers_from(form, rubric, case["case_type"])
            try:
                calibration_data.save_grades(get_db(), exercise_id, case_id, g.user.id, answers)
            except calibration_data.AlreadySubmitted:
                flash("Your grades can no longer change: see the exercise page.", "error")
            else:
                worried = scoring.adverse(rubric, case["case_type"], answers)
                flash(
                    f"Your grades for {case['pseudonym']} are saved."
                    + (
                        " You said the child may not be adequately safeguarded:"
                        " read what to do now, below."
                        if worried
                        else ""
                    )
                )
            return redirect(scope.url("exercise_page", exercise_id=exercise_id))
    else:
        if request.method == "POST":
            flash(
                "Your grades can no longer change: you have submitted or the results are open.",
                "error",
            )
            return redirect(scope.url("exercise_page", exercise_id=exercise_id))
        form = form_class(
            formdata=None,
            data=form_data(rubric, case["case_type"], mine, frozenset(), {}, 0),
        )
    return render_template(
        "calibration/grade.html",
        scope=scope,
        exercise=exercise,
        case=full_case,
        rubric=rubric,
        sections=applicable(rubric, case["case_type"]),
        form=form,
        locked=locked,
    )


@bp.route(f"{PREFIX}/<exercise_id>/cases/<case_id>", methods=["GET", "POST"])
@requires("calibration.grade")
def grade_case(review_id: str, exercise_id: str, case_id: str) -> str | Response:
    """Grade one case of the exercise with the normal scoring form (own grades only)."""
    return _grade_case(*_in_review(review_id, exercise_id), case_id)


@bp.route(f"{PROGRAMME}/<exercise_id>/cases/<case_id>", methods=["GET", "POST"])
@requires("calibration.programme_take_part")
def programme_grade_case(programme_id: str, exercise_id: str, case_id: str) -> str | Response:
    """Grade one case of a programme's exercise with the hosting review's scoring form."""
    return _grade_case(*_in_programme(programme_id, exercise_id), case_id)


def _gaps(scope: Scope, exercise: calibration_data.Exercise) -> list[calibration.Gap]:
    mine = calibration_data.grades(get_db(), exercise.id, user_id=g.user.id)
    return calibration.gaps(scope.review.rubric, exercise.cases, mine, g.user.id)


def _submit(scope: Scope, exercise: calibration_data.Exercise) -> str | Response:
    me = _participating(exercise)
    if not ActionForm().validate_on_submit():
        abort(400)
    locked = me.submitted_at is not None or exercise.results_open
    gaps = [] if locked else _gaps(scope, exercise)
    if gaps and request.form.get("confirm") != "1":
        # Submitted grades are final: say what is ungraded and ask again, rather than lose it.
        return render_template(
            "calibration/submit.html",
            scope=scope,
            exercise=exercise,
            gaps=gaps,
            nothing=len(gaps) == len(exercise.cases)
            and all(gap.missing == gap.questions for gap in gaps),
            action_form=ActionForm(),
        )
    try:
        opened = calibration_data.submit(get_db(), exercise.id, g.user.id, exercise.review_id)
    except calibration_data.AlreadySubmitted:
        flash("You had already submitted your grades.", "error")
    else:
        flash(
            "Your grades are submitted. Everyone has now submitted, so the results are open."
            if opened
            else "Your grades are submitted. You will see everyone's when the results open."
        )
    return redirect(scope.url("exercise_page", exercise_id=exercise.id))


@bp.route(f"{PREFIX}/<exercise_id>/submit", methods=["POST"])
@requires("calibration.grade")
def submit(review_id: str, exercise_id: str) -> str | Response:
    """Make the participant's grades final; the last one in opens the results."""
    return _submit(*_in_review(review_id, exercise_id))


@bp.route(f"{PROGRAMME}/<exercise_id>/submit", methods=["POST"])
@requires("calibration.programme_take_part")
def programme_submit(programme_id: str, exercise_id: str) -> str | Response:
    """Make the participant's grades in a programme's exercise final."""
    return _submit(*_in_programme(programme_id, exercise_id))


def _deletable(exercise: calibration_data.Exercise) -> tuple[int, bool]:
    """Return the exercise's saved answers, and whether it may go: results shut or no grades."""
    graded = calibration_data.grade_count(get_db(), exercise.id)
    return graded, not (exercise.results_open and graded)


def _delete(scope: Scope, exercise: calibration_data.Exercise) -> str | Response:
    if not scope.manage:
        abort(403)
    db = get_db()
    graded, deletable = _deletable(exercise)
    if request.method == "POST":
        if not ActionForm().validate_on_submit() or request.form.get("confirm") != "1":
            abort(400)
        try:
            calibration_data.delete(db, exercise.id, exercise.review_id, g.user.id)
        except calibration_data.NotDeletable:
            flash("Its results are open and it holds grades, so it was not deleted.", "error")
            return redirect(scope.url("exercise_page", exercise_id=exercise.id))
        flash(f"Calibration exercise “{exercise.title}” deleted.")
        return redirect(scope.url("exercise_list"))
    return render_template(
        "calibration/delete.html",
        scope=scope,
        exercise=exercise,
        graded=graded,
        deletable=deletable,
        action_form=ActionForm(),
    )


@bp.route(f"{PREFIX}/<exercise_id>/delete", methods=["GET", "POST"])
@requires("calibration.manage")
def exercise_delete(review_id: str, exercise_id: str) -> str | Response:
    """Delete an exercise set up by mistake, before its results open or while nobody graded."""
    return _delete(*_in_review(review_id, exercise_id))


@bp.route(f"{PROGRAMME}/<exercise_id>/delete", methods=["GET", "POST"])
@requires("calibration.programme_manage")
def programme_exercise_delete(programme_id: str, exercise_id: str) -> str | Response:
    """Delete a programme's exercise set up by mistake, under the same rule."""
    return _delete(*_in_programme(programme_id, exercise_id))


def _open_results(scope: Scope, exercise: calibration_data.Exercise) -> Response:
    if not scope.manage:
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    calibration_data.open_results(get_db(), exercise.id, exercise.review_id, g.user.id)
    flash("The results are open: every participant can now see everyone's grades.")
    return redirect(scope.url("results_page", exercise_id=exercise.id))


@bp.route(f"{PREFIX}/<exercise_id>/open", methods=["POST"])
@requires("calibration.manage")
def open_results(review_id: str, exercise_id: str) -> Response:
    """Open the results to the panel before everyone has submitted."""
    return _open_results(*_in_review(review_id, exercise_id))


@bp.route(f"{PROGRAMME}/<exercise_id>/open", methods=["POST"])
@requires("calibration.programme_manage")
def programme_open_results(programme_id: str, exercise_id: str) -> Response:
    """Open a programme's exercise's results before everyone has submitted."""
    return _open_results(*_in_programme(programme_id, exercise_id))


def _results(scope: Scope, exercise: calibration_data.Exercise) -> calibration.Results:
    db = get_db()
    return calibration.results(
        scope.review.rubric,
        exercise.cases,
        [(p.user_id, p.display_name) for p in exercise.participants],
        calibration_data.grades(db, exercise.id),
        calibration_data.agreed(db, exercise.id),
    )


def _levels(scope: Scope) -> list[tuple[str, str]]:
    return [(level.id, level.label) for level in scope.review.rubric.scale.levels]


def _chart_levels(
    levels: list[tuple[str, str]], units: list[calibration.Unit]
) -> list[tuple[str, str]]:
    """Return the chart's columns: the answers, and "Not applicable" where it can be given."""
    if any(unit.question.allow_na or calibration.NOT_APPLICABLE in unit.answered for unit in units):
        return [*levels, (calibration.NOT_APPLICABLE, calibration.NOT_APPLICABLE_LABEL)]
    return levels


def _open_or_403(scope: Scope, exercise: calibration_data.Exercise) -> None:
    """Refuse everyone's grades before results open: blindness is the point of the exercise."""
    if not _may_see_grades(scope, exercise):
        abort(403)


def _results_page(scope: Scope, exercise: calibration_data.Exercise) -> str:
    _open_or_403(scope, exercise)
    result = _results(scope, exercise)
    many_cases = len(exercise.cases) > 1
    grade_units = [u for u in result.units if u.question.type == "grade"]
    yes_no_units = [u for u in result.units if u.question.type == "yes_no"]
    grade_chart = (
        charts.dot_plot(
            "grades-dots",
            calibration.dot_rows(grade_units, case_label=many_cases),
            levels=_chart_levels(_levels(scope), grade_units),
            title="Each participant's grade, per question",
        )
        if grade_units
        else None
    )
    yes_no_chart = (
        charts.dot_plot(
            "yes-no-dots",
            calibration.dot_rows(yes_no_units, case_label=many_cases),
            levels=_chart_levels([("yes", "Yes"), ("no", "No")], yes_no_units),
            title="Each participant's yes or no answer, per question",
        )
        if yes_no_units
        else None
    )
    return render_template(
        "calibration/results.html",
        calibration=calibration,
        scope=scope,
        exercise=exercise,
        result=result,
        labels=calibration.answer_labels(scope.review.rubric),
        grade_units=grade_units,
        yes_no_units=yes_no_units,
        grade_chart=grade_chart,
        yes_no_chart=yes_no_chart,
        manage=scope.manage,
    )


@bp.route(f"{PREFIX}/<exercise_id>/results")
@requires("calibration.view")
def results_page(review_id: str, exercise_id: str) -> str:
    """Show every grade per question, widest disagreement first, and the panel's agreement."""
    return _results_page(*_in_review(review_id, exercise_id))


@bp.route(f"{PROGRAMME}/<exercise_id>/results")
@requires("calibration.programme_take_part")
def programme_results_page(programme_id: str, exercise_id: str) -> str:
    """Show a programme's exercise's grades per question and the panel's agreement."""
    return _results_page(*_in_programme(programme_id, exercise_id))


def _results_json(scope: Scope, exercise: calibration_data.Exercise) -> Response:
    _open_or_403(scope, exercise)
    payload = {"exercise": exercise.title, "cases": [c["pseudonym"] for c in exercise.cases]}
    labels = calibration.answer_labels(scope.review.rubric)
    return jsonify(payload | _results(scope, exercise).as_dict(labels))


@bp.route(f"{PREFIX}/<exercise_id>/results.json")
@requires("calibration.view")
def results_json(review_id: str, exercise_id: str) -> Response:
    """Give the results as JSON: the same numbers as the page."""
    return _results_json(*_in_review(review_id, exercise_id))


@bp.route(f"{PROGRAMME}/<exercise_id>/results.json")
@requires("calibration.programme_take_part")
def programme_results_json(programme_id: str, exercise_id: str) -> Response:
    """Give a programme's exercise's results as JSON: the same numbers as its page."""
    return _results_json(*_in_programme(programme_id, exercise_id))


def _question(rubric: Any, case_type: str, question_id: str) -> Question:
    for question in rubric.questions_for(case_type):
        if question.id == question_id and question.type != "text":
            return question
    abort(404)


def _agreed_grade(
    scope: Scope, exercise: calibration_data.Exercise, case_id: str, question_id: str
) -> str | Response:
    if not scope.manage:
        abort(403)
    _open_or_403(scope, exercise)
    case = exercise.case(case_id)
    if case is None:
        abort(404)
    question = _question(scope.review.rubric, case["case_type"], question_id)
    unit = next(
        u
        for u in _results(scope, exercise).units
        if u.case_id == case_id and u.question.id == question_id
    )
    if unit.unanswered and unit.agreed is None:
        flash(
            f"Nobody answered “{question.text}” for {case['pseudonym']}:"
            " there is no answer to agree.",
            "error",
        )
        return redirect(scope.url("results_page", exercise_id=exercise.id) + "#agree-other")
    choices = calibration.answer_choices(scope.review.rubric, question)
    form = AgreedGradeForm(data={"value": unit.agreed, "rationale": unit.rationale})
    form.value.choices = [SelectChoice(key, label) for key, label in choices]
    if form.validate_on_submit():
        calibration_data.record_agreed(
            get_db(),
            exercise.id,
            exercise.review_id,
            case_id=case_id,
            question_id=question_id,
            value=form.value.data,
            rationale=form.rationale.data,
            by=g.user.id,
        )
        flash(f"Agreed answer saved for {case['pseudonym']}: {question.text}")
        # Back to the item agreed, on the agenda or the list of other questions.
        here = f"unit-{case_id}-{place.anchor(question_id)}"
        return redirect(place.at(scope.url("results_page", exercise_id=exercise.id), here))
    return render_template(
        "calibration/agreed.html",
        scope=scope,
        exercise=exercise,
        case=case,
        question=question,
        unit=unit,
        labels=calibration.answer_labels(scope.review.rubric),
        form=form,
    )


@bp.route(f"{PREFIX}/<exercise_id>/agreed/<case_id>/<question_id>", methods=["GET", "POST"])
@requires("calibration.manage")
def agreed_grade(
    review_id: str, exercise_id: str, case_id: str, question_id: str
) -> str | Response:
    """Record the panel's agreed answer to one question and its rationale."""
    return _agreed_grade(*_in_review(review_id, exercise_id), case_id, question_id)


@bp.route(f"{PROGRAMME}/<exercise_id>/agreed/<case_id>/<question_id>", methods=["GET", "POST"])
@requires("calibration.programme_manage")
def programme_agreed_grade(
    programme_id: str, exercise_id: str, case_id: str, question_id: str
) -> str | Response:
    """Record a programme panel's agreed answer to one question and its rationale."""
    return _agreed_grade(*_in_programme(programme_id, exercise_id), case_id, question_id)


def _exemplar(
    scope: Scope, exercise: calibration_data.Exercise, case_id: str, question_id: str
) -> str:
    case = exercise.case(case_id)
    decided = calibration_data.agreed(get_db(), exercise.id).get((case_id, question_id))
    if not exercise.results_open or case is None or decided is None:
        abort(404)
    question = _question(scope.review.rubric, case["case_type"], question_id)
    labels = calibration.answer_labels(scope.review.rubric)
    return render_template(
        "calibration/exemplar.html",
        scope=scope,
        case=case,
        question=question,
        decided=decided,
        label=labels.get(decided["value"], decided["value"]),
    )


@bp.route(f"{PREFIX}/<exercise_id>/exemplars/<case_id>/<question_id>")
@requires("calibration.exemplar")
def exemplar(review_id: str, exercise_id: str, case_id: str, question_id: str) -> str:
    """Show a calibrated exemplar: the agreed grade and why, with only the case's pseudonym."""
    try:
        exercise = calibration_data.get(get_db(), exercise_id, review_id)
    except calibration_data.ExerciseNotFound:
        abort(404)
    return _exemplar(_review_scope(), exercise, case_id, question_id)


@bp.route(f"{PROGRAMME}/<exercise_id>/exemplars/<case_id>/<question_id>")
@requires("calibration.programme_take_part")
def programme_exemplar(programme_id: str, exercise_id: str, case_id: str, question_id: str) -> str:
    """Show a programme panel's exemplar to its leads and the members of its reviews."""
    db = get_db()
    scope = _programme_scope(programme_id)
    try:
        exercise = calibration_data.get_in_programme(db, exercise_id, programme_id)
    except calibration_data.ExerciseNotFound:
        abort(404)
    member = any(
        review_data.membership(db, review_id, g.user.id)
        for review_id in programmes.review_ids(db, programme_id)
    )
    if not (member or scope.manage or exercise.participant(g.user.id)):
        abort(403)
    host = _programme_scope(programme_id, review_data.get(db, exercise.review_id))
    return _exemplar(host, exercise, case_id, question_id)


def exemplar_links(review: Any) -> dict[str, list[dict[str, Any]]]:
    """Return links to the calibrated exemplars per question, for the review's scoring form.

    The review's own panels' agreed answers, then its programme's wherever the hosting
    review's rubric asks the same question on the same scale.
    """
    db = get_db()
    out: dict[str, list[dict[str, Any]]] = {}
    for question_id, items in calibration_data.exemplars(db, review.id).items():
        out[question_id] = [
            {
                "pseudonym": item["pseudonym"],
                "url": url_for(
                    "calibration.exemplar",
                    review_id=review.id,
                    exercise_id=item["exercise_id"],
                    case_id=item["case_id"],
                    question_id=question_id,
                ),
            }
            for item in items
        ]
    if not review.programme_id:
        return out
    rubrics: dict[str, Any] = {}
    for item in calibration_data.programme_exemplars(db, review.programme_id):
        host = item["host_review_id"]
        if host not in rubrics:
            rubrics[host] = review_data.get(db, host).rubric
        if not calibration.same_question(rubrics[host], review.rubric, item["question_id"]):
            continue
        out.setdefault(item["question_id"], []).append(
            {
                "pseudonym": item["pseudonym"],
                "url": url_for(
                    "calibration.programme_exemplar",
                    programme_id=review.programme_id,
                    exercise_id=item["exercise_id"],
                    case_id=item["case_id"],
                    question_id=item["question_id"],
                ),
            }
        )
    return out


@bp.route("/programmes/<programme_id>/leniency")
@requires("programmes.leniency")
def leniency(programme_id: str) -> str:
    """Show each auditor's lean against agreed and moderated grades across the programme."""
    db = get_db()
    try:
        item = programmes.get(db, programme_id)
    except programmes.ProgrammeNotFound:
        abort(404)
    ids = programmes.review_ids(db, programme_id)
    rubrics = {rid: review_data.get(db, rid).rubric for rid in ids}
    figures = calibration.leniency(calibration_data.leniency_rows(db, ids), rubrics)
    return render_template("calibration/leniency.html", programme=item, figures=figures)
