"""The installation's agencies (admins): add, rename, retire; say who belongs to which."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from audit.data import agencies as agency_data
from audit.forms import ActionForm
from audit.views import get_db, requires
from audit.views.partnership_forms import AgencyNameForm, PersonAgencyForm

bp = Blueprint("agencies", __name__, url_prefix="/admin/agencies")


def _person_form() -> PersonAgencyForm:
    db = get_db()
    form = PersonAgencyForm(prefix="person")
    form.user.choices = [
        SelectChoice(str(p["id"]), f"{p['display_name']} ({p['username']})")
        for p in agency_data.people(db)
    ]
    form.agency.choices = [SelectChoice("", "No agency")] + [
        SelectChoice(a.id, a.name) for a in agency_data.all_agencies(db, include_retired=False)
    ]
    return form


def _page(
    form: AgencyNameForm, person_form: PersonAgencyForm, status: int = 200
) -> tuple[str, int]:
    db = get_db()
    return render_template(
        "agencies/list.html",
        agencies=agency_data.all_agencies(db),
        people=[p for p in agency_data.people(db) if p["agency_id"]],
        form=form,
        person_form=person_form,
        action_form=ActionForm(),
    ), status


@bp.route("", methods=["GET", "POST"])
@requires("agencies.manage")
def agency_list() -> str | Response | tuple[str, int]:
    """The list of agencies, a form to add one, and who belongs to which agency."""
    form = AgencyNameForm()
    if form.validate_on_submit():
        try:
            agency = agency_data.add(get_db(), form.name.data, by=g.user.id)
        except agency_data.DuplicateAgency as exc:
            form.name.errors = [f"The list already has {exc}"]
        except ValueError as exc:
            form.name.errors = [str(exc).capitalize()]
        else:
            flash(f"{agency.name} added (its id in audit tools: {agency.id}).")
            return redirect(url_for("agencies.agency_list") + "#agencies")
        return _page(form, _person_form(), 400)
    return _page(form, _person_form())


@bp.route("/people", methods=["POST"])
@requires("agencies.manage")
def person_agency() -> str | Response | tuple[str, int]:
    """Say which agency a person belongs to (or none)."""
    form = _person_form()
    if form.validate_on_submit():
        db = get_db()
        user_id = int(form.user.data)
        agency_data.set_user_agency(db, user_id, form.agency.data or None, by=g.user.id)
        person = next((p for p in agency_data.people(db) if p["id"] == user_id), None)
        if person is not None:
            flash(
                f"{person['display_name']} belongs to {person['agency_name']}."
                if person["agency_name"]
                else f"{person['display_name']} belongs to no agency."
            )
        return redirect(url_for("agencies.agency_list") + "#people")
    return _page(AgencyNameForm(formdata=None), form, 400)


def _agency_or_404(agency_id: str) -> agency_data.Agency:
    try:
        return agency_data.get(get_db(), agency_id)
    except agency_data.AgencyNotFound:
        abort(404)


@bp.route("/<agency_id>", methods=["GET", "POST"])
@requires("agencies.manage")
def agency_edit(agency_id: str) -> str | Response | tuple[str, int]:
    """Rename an agency (its id, which audit tools name, stays)."""
    agency = _agency_or_404(agency_id)
    form = AgencyNameForm(data={"name": agency.name})
    form.submit.label.text = "Save the name"
    if form.validate_on_submit():
        try:
            agency_data.rename(get_db(), agency_id, form.name.data, by=g.user.id)
        except agency_data.DuplicateAgency as exc:
            form.name.errors = [f"The list already has {exc}"]
        except ValueError as exc:
            form.name.errors = [str(exc).capitalize()]
        else:
            flash("Agency renamed.")
            return redirect(url_for("agencies.agency_list") + "#agencies")
    return render_template(
        "agencies/edit.html", agency=agency, form=form, action_form=ActionForm()
    ), (400 if form.errors else 200)


@bp.route("/<agency_id>/retire", methods=["POST"])
@requires("agencies.manage")
def agency_retire(agency_id: str) -> Response:
    """Retire an agency (no longer offered) or bring it back; what names it stays."""
    agency = _agency_or_404(agency_id)
    if ActionForm().validate_on_submit():
        agency_data.set_retired(get_db(), agency_id, not agency.retired, by=g.user.id)
        flash(f"{agency.name} {'brought back' if agency.retired else 'retired'}.")
    return redirect(url_for("agencies.agency_list") + "#agencies")
