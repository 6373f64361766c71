"""Calibration panels: set one up, grade blind, see how far the panel agrees, agree the grades."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from audit import calibration, charts, policy
from audit.data import calibration as calibration_data
from audit.data import programmes
from audit.data import reviews as review_data
from audit.forms import ActionForm, AgreedGradeForm, CalibrationForm
from audit.rubric import Question
from audit.scoring import applicable
from audit.views import get_db, requires
from audit.views.scoring_form import answers_from, build_form_class, form_data

bp = Blueprint("calibration", __name__)
PREFIX = "/reviews/<review_id>/calibration"


def _exercise(review_id: str, exercise_id: str) -> calibration_data.Exercise:
    """Load the exercise, a 404 if it is not this review's or the user may not open it."""
    try:
        exercise = calibration_data.get(get_db(), exercise_id, review_id)
    except calibration_data.ExerciseNotFound:
        abort(404)
    if not policy.may_see_exercise(
        g.user, g.review_role, exercise.participant(g.user.id) is not None
    ):
        abort(403)
    return exercise


def _participating(exercise: calibration_data.Exercise) -> calibration_data.Participant:
    participant = exercise.participant(g.user.id)
    if participant is None:
        abort(403)
    return participant


def _may_see_grades(exercise: calibration_data.Exercise) -> bool:
    return policy.may_see_calibration_grades(
        g.user, g.review_role, exercise.participant(g.user.id) is not None, exercise.results_open
    )


@bp.route(PREFIX)
@requires("calibration.view")
def exercise_list(review_id: str) -> str:
    """List the calibration exercises this user runs or takes part in."""
    manage = policy.allowed(g.user, "calibration.manage", g.review_role)
    exercises = [
        e
        for e in calibration_data.for_review(get_db(), review_id)
        if manage or e.participant(g.user.id) is not None
    ]
    return render_template(
        "calibration/list.html", review=g.review, exercises=exercises, manage=manage
    )


@bp.route(f"{PREFIX}/new", methods=["GET", "POST"])
@requires("calibration.manage")
def exercise_new(review_id: str) -> str | Response:
    """Set up an exercise: a few of the review's case files and the people who grade them."""
    db = get_db()
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
    if form.validate_on_submit():
        try:
            exercise_id = calibration_data.create(
                db,
                review_id,
                title=form.title.data,
                case_ids=form.cases.data,
                participant_ids=[int(p) for p in form.participants.data],
                by=g.user.id,
            )
        except ValueError as problem:
            form.title.errors = [*form.title.errors, str(problem)]
        else:
            flash("Calibration exercise created. Participants can now grade the case files.")
            return redirect(
                url_for("calibration.exercise_page", review_id=review_id, exercise_id=exercise_id)
            )
    return render_template("calibration/new.html", review=g.review, form=form)


@bp.route(f"{PREFIX}/<exercise_id>")
@requires("calibration.view")
def exercise_page(review_id: str, exercise_id: str) -> str:
    """Show the exercise: who has submitted, and the participant's own cases to grade."""
    exercise = _exercise(review_id, exercise_id)
    me = exercise.participant(g.user.id)
    mine = calibration_data.grades(get_db(), exercise_id, user_id=g.user.id) if me else {}
    return render_template(
        "calibration/exercise.html",
        review=g.review,
        exercise=exercise,
        me=me,
        started={case_id for case_id, _user in mine},
        manage=policy.allowed(g.user, "calibration.manage", g.review_role),
        may_see_grades=_may_see_grades(exercise),
        action_form=ActionForm(),
    )


@bp.route(f"{PREFIX}/<exercise_id>/cases/<case_id>", methods=["GET", "POST"])
@requires("calibration.grade")
def grade_case(review_id: str, exercise_id: str, case_id: str) -> str | Response:
    """Grade one case of the exercise with the normal scoring form (own grades only)."""
    exercise = _exercise(review_id, exercise_id)
    me = _participating(exercise)
    case = exercise.case(case_id)
    if case is None:
        abort(404)
    full_case = review_data.case_file(get_db(), case_id, review_id)
    rubric = g.review.rubric
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
                flash(f"Your grades for {case['pseudonym']} are saved.")
            return redirect(
                url_for("calibration.exercise_page", review_id=review_id, exercise_id=exercise_id)
            )
    else:
        if request.method == "POST":
            flash(
                "Your grades can no longer change: you have submitted or the results are open.",
                "error",
            )
            return redirect(
                url_for("calibration.exercise_page", review_id=review_id, exercise_id=exercise_id)
            )
        form = form_class(
            formdata=None,
            data=form_data(rubric, case["case_type"], mine, frozenset(), {}, 0),
        )
    return render_template(
        "calibration/grade.html",
        review=g.review,
        exercise=exercise,
        case=full_case,
        rubric=rubric,
        sections=applicable(rubric, case["case_type"]),
        form=form,
        locked=locked,
    )


@bp.route(f"{PREFIX}/<exercise_id>/submit", methods=["POST"])
@requires("calibration.grade")
def submit(review_id: str, exercise_id: str) -> Response:
    """Make the participant's grades final; the last one in opens the results."""
    exercise = _exercise(review_id, exercise_id)
    _participating(exercise)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        opened = calibration_data.submit(get_db(), exercise_id, g.user.id, review_id)
    except calibration_data.AlreadySubmitted:
        flash("You had already submitted your grades.", "error")
    else:
        flash(
            "Your grades are submitted. Everyone has now submitted, so the results are open."
            if opened
            else "Your grades are submitted. You will see everyone's when the results open."
        )
    return redirect(
        url_for("calibration.exercise_page", review_id=review_id, exercise_id=exercise_id)
    )


@bp.route(f"{PREFIX}/<exercise_id>/open", methods=["POST"])
@requires("calibration.manage")
def open_results(review_id: str, exercise_id: str) -> Response:
    """Open the results to the panel before everyone has submitted."""
    _exercise(review_id, exercise_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    calibration_data.open_results(get_db(), exercise_id, review_id, g.user.id)
    flash("The results are open: every participant can now see everyone's grades.")
    return redirect(
        url_for("calibration.results_page", review_id=review_id, exercise_id=exercise_id)
    )


def _results(exercise: calibration_data.Exercise) -> calibration.Results:
    db = get_db()
    return calibration.results(
        g.review.rubric,
        exercise.cases,
        [(p.user_id, p.display_name) for p in exercise.participants],
        calibration_data.grades(db, exercise.id),
        calibration_data.agreed(db, exercise.id),
    )


def _levels() -> list[tuple[str, str]]:
    return [(level.id, level.label) for level in g.review.rubric.scale.levels]


def _open_or_403(exercise: calibration_data.Exercise) -> None:
    """Refuse everyone's grades before results open: blindness is the point of the exercise."""
    if not _may_see_grades(exercise):
        abort(403)


@bp.route(f"{PREFIX}/<exercise_id>/results")
@requires("calibration.view")
def results_page(review_id: str, exercise_id: str) -> str:
    """Show every grade per question, widest disagreement first, and the panel's agreement."""
    exercise = _exercise(review_id, exercise_id)
    _open_or_403(exercise)
    result = _results(exercise)
    many_cases = len(exercise.cases) > 1
    grade_units = [u for u in result.units if u.question.type == "grade"]
    yes_no_units = [u for u in result.units if u.question.type == "yes_no"]
    grade_chart = (
        charts.dot_plot(
            "grades-dots",
            calibration.dot_rows(grade_units, case_label=many_cases),
            levels=_levels(),
            title="Each participant's grade, per question",
        )
        if grade_units
        else None
    )
    yes_no_chart = (
        charts.dot_plot(
            "yes-no-dots",
            calibration.dot_rows(yes_no_units, case_label=many_cases),
            levels=[("yes", "Yes"), ("no", "No")],
            title="Each participant's yes or no answer, per question",
        )
        if yes_no_units
        else None
    )
    return render_template(
        "calibration/results.html",
        review=g.review,
        exercise=exercise,
        result=result,
        labels=dict(_levels()) | {"yes": "Yes", "no": "No"},
        grade_units=grade_units,
        yes_no_units=yes_no_units,
        grade_chart=grade_chart,
        yes_no_chart=yes_no_chart,
        manage=policy.allowed(g.user, "calibration.manage", g.review_role),
    )


@bp.route(f"{PREFIX}/<exercise_id>/results.json")
@requires("calibration.view")
def results_json(review_id: str, exercise_id: str) -> Response:
    """Give the results as JSON: the same numbers as the page."""
    exercise = _exercise(review_id, exercise_id)
    _open_or_403(exercise)
    payload = {"exercise": exercise.title, "cases": [c["pseudonym"] for c in exercise.cases]}
    return jsonify(payload | _results(exercise).as_dict(dict(_levels())))


def _question(case_type: str, question_id: str) -> Question:
    for question in g.review.rubric.questions_for(case_type):
        if question.id == question_id and question.type != "text":
            return question
    abort(404)


@bp.route(f"{PREFIX}/<exercise_id>/agreed/<case_id>/<question_id>", methods=["GET", "POST"])
@requires("calibration.manage")
def agreed_grade(
    review_id: str, exercise_id: str, case_id: str, question_id: str
) -> str | Response:
    """Record the panel's agreed answer to one question and its rationale."""
    exercise = _exercise(review_id, exercise_id)
    _open_or_403(exercise)
    case = exercise.case(case_id)
    if case is None:
        abort(404)
    question = _question(case["case_type"], question_id)
    unit = next(
        u for u in _results(exercise).units if u.case_id == case_id and u.question.id == question_id
    )
    choices = _levels() if question.type == "grade" else [("yes", "Yes"), ("no", "No")]
    form = AgreedGradeForm(data={"value": unit.agreed, "rationale": unit.rationale})
    form.value.choices = [SelectChoice(key, label) for key, label in choices]
    if form.validate_on_submit():
        calibration_data.record_agreed(
            get_db(),
            exercise_id,
            review_id,
            case_id=case_id,
            question_id=question_id,
            value=form.value.data,
            rationale=form.rationale.data,
            by=g.user.id,
        )
        flash(f"Agreed answer saved for {case['pseudonym']}: {question.text}")
        return redirect(
            url_for("calibration.results_page", review_id=review_id, exercise_id=exercise_id)
            + "#agenda"
        )
    return render_template(
        "calibration/agreed.html",
        review=g.review,
        exercise=exercise,
        case=case,
        question=question,
        unit=unit,
        labels=dict(choices),
        form=form,
    )


@bp.route(f"{PREFIX}/<exercise_id>/exemplars/<case_id>/<question_id>")
@requires("calibration.exemplar")
def exemplar(review_id: str, exercise_id: str, case_id: str, question_id: str) -> str:
    """Show a calibrated exemplar: the agreed grade and why, with only the case's pseudonym."""
    db = get_db()
    try:
        exercise = calibration_data.get(db, exercise_id, review_id)
    except calibration_data.ExerciseNotFound:
        abort(404)
    case = exercise.case(case_id)
    decided = calibration_data.agreed(db, exercise_id).get((case_id, question_id))
    if not exercise.results_open or case is None or decided is None:
        abort(404)
    question = _question(case["case_type"], question_id)
    labels = dict(_levels()) | {"yes": "Yes", "no": "No"}
    return render_template(
        "calibration/exemplar.html",
        review=g.review,
        case=case,
        question=question,
        decided=decided,
        label=labels.get(decided["value"], decided["value"]),
    )


def exemplar_links(review_id: str) -> dict[str, list[dict[str, Any]]]:
    """Return links to the review's calibrated exemplars per question, for the scoring form."""
    out: dict[str, list[dict[str, Any]]] = {}
    for question_id, items in calibration_data.exemplars(get_db(), review_id).items():
        out[question_id] = [
            {
                "pseudonym": item["pseudonym"],
                "url": url_for(
                    "calibration.exemplar",
                    review_id=review_id,
                    exercise_id=item["exercise_id"],
                    case_id=item["case_id"],
                    question_id=question_id,
                ),
            }
            for item in items
        ]
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
