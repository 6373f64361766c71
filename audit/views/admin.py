"""Admin pages: users (add, deactivate, reset passwords), the nation and bank holidays."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from werkzeug.wrappers import Response

from audit import moments
from audit.data import users
from audit.forms import (
    ActionForm,
    BankHolidayForm,
    NationForm,
    PasswordResetForm,
    RoleForm,
    SecuritySettingsForm,
    UserForm,
)
from audit.views import get_db, requires

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@requires("users.manage")
def user_list() -> str:
    """List every user with their role and whether they can sign in."""
    return render_template(
        "admin/users.html",
        users=users.all_users(get_db()),
        action_form=ActionForm(),
        role_form=RoleForm(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@requires("users.manage")
def user_new() -> str | Response:
    """Add a user."""
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = users.create(
                get_db(),
                form.username.data.strip(),
                form.password.data,
                form.role.data,
                display_name=form.display_name.data.strip(),
                by=g.user.id,
                email=form.email.data,
            )
        except users.UserExists as exc:
            if form.email.data and str(exc) == form.email.data.strip():
                form.email.errors = ["A user with that email already exists"]
            else:
                form.username.errors = ["A user with that username already exists"]
        else:
            flash(f"Added {user.display_name} ({user.username}) as {user.role}.")
            return redirect(url_for("admin.user_list"))
    return render_template("admin/user_new.html", form=form)


def _user_or_404(user_id: int) -> users.User:
    user = users.get(get_db(), user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@requires("users.manage")
def user_deactivate(user_id: int) -> Response:
    """Stop a user signing in (their past work stays)."""
    user = _user_or_404(user_id)
    if ActionForm().validate_on_submit():
        if user.id == g.user.id:
            flash("You cannot deactivate your own account.", "error")
        else:
            users.set_active(get_db(), user.id, False, by=g.user.id)
            flash(f"{user.display_name} can no longer sign in.")
    return redirect(url_for("admin.user_list"))


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
@requires("users.manage")
def user_activate(user_id: int) -> Response:
    """Let a deactivated user sign in again."""
    user = _user_or_404(user_id)
    if ActionForm().validate_on_submit():
        users.set_active(get_db(), user.id, True, by=g.user.id)
        flash(f"{user.display_name} can sign in again.")
    return redirect(url_for("admin.user_list"))


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@requires("users.manage")
def user_password(user_id: int) -> str | Response:
    """Set a new password for a user who has forgotten theirs."""
    user = _user_or_404(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        users.set_password(get_db(), user.id, form.password.data, by=g.user.id)
        flash(
            f"New password set for {user.display_name}; they have been signed out everywhere. "
            "Tell them it in person or by phone."
        )
        return redirect(url_for("admin.user_list"))
    return render_template("admin/user_password.html", form=form, user=user)


@bp.route("/bank-holidays", methods=["GET", "POST"])
@requires("users.manage")
def bank_holidays() -> str | Response:
    """List the bank holidays working days skip, and let an admin add local ones."""
    from audit.caselist import parse_date
    from audit.data import holidays

    db = get_db()
    form = BankHolidayForm()
    if form.validate_on_submit():
        day = parse_date(form.day.data or "")
        if day is None:
            form.day.errors = ["Enter a real date, for example 8/5/2028"]
        else:
            holidays.add(db, day, form.name.data, by=g.user.id)
            flash(f"Added {moments.day(day)}: working-day measures now skip it.")
            return redirect(url_for("admin.bank_holidays"))
    return _bank_holidays_page(form, _nation_form(submitted=False))


def _nation_form(submitted: bool) -> NationForm:
    """Build the nation form with the nations we know and the instance's current choice."""
    from audit import timeliness
    from audit.data import holidays

    form = NationForm() if submitted else NationForm(formdata=None)
    form.nation.choices = [(key, name) for key, (name, _code) in timeliness.NATIONS.items()]
    if not submitted:
        form.nation.data = holidays.nation(get_db()) or timeliness.DEFAULT_NATION
    return form


def _bank_holidays_page(form: BankHolidayForm, nation_form: NationForm) -> str:
    """Render the bank holidays page: the nation, the days added and the nation's own days."""
    from datetime import date

    from audit import timeliness
    from audit.data import holidays

    db = get_db()
    nation = holidays.nation(db) or timeliness.DEFAULT_NATION
    this_year = date.today().year
    shipped = sorted(
        (day, name)
        for day, name in timeliness.shipped_bank_holidays(nation).items()
        if this_year - 1 <= day.year <= this_year + 1
    )
    return render_template(
        "admin/bank_holidays.html",
        form=form,
        nation_form=nation_form,
        nation_name=timeliness.NATIONS[nation][0],
        nation_fixed=bool(current_app.config.get("NATION")),
        added=holidays.extra(db),
        shipped=shipped,
    )


@bp.route("/bank-holidays/nation", methods=["POST"])
@requires("users.manage")
def bank_holiday_nation() -> str | Response:
    """Set the nation whose bank holidays working days skip, unless config.toml fixes it."""
    from audit import timeliness
    from audit.data import holidays

    nation_form = _nation_form(submitted=True)
    if current_app.config.get("NATION"):
        flash("The nation is set in config.toml; change it there.")
        return redirect(url_for("admin.bank_holidays"))
    if nation_form.validate_on_submit():
        if holidays.set_nation(get_db(), nation_form.nation.data, by=g.user.id):
            name = timeliness.NATIONS[nation_form.nation.data][0]
            flash(f"Working days now skip the bank holidays of {name}.")
        return redirect(url_for("admin.bank_holidays"))
    return _bank_holidays_page(BankHolidayForm(formdata=None), nation_form)


@bp.route("/bank-holidays/<day>/delete", methods=["POST"])
@requires("users.manage")
def bank_holiday_delete(day: str) -> Response:
    """Remove a day an admin added."""
    from audit.data import holidays

    if ActionForm().validate_on_submit() and holidays.remove(get_db(), day, by=g.user.id):
        flash(f"Removed {moments.day(day)}.")
    return redirect(url_for("admin.bank_holidays"))


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@requires("users.manage")
def user_role(user_id: int) -> Response:
    """Give a user a role (a single sign-on account waiting for access gets its first)."""
    user = _user_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(f"Choose a role for {user.display_name}.", "error")
    elif user.id == g.user.id:
        flash("You cannot change your own role.", "error")
    else:
        users.set_role(get_db(), user.id, form.role.data, by=g.user.id)
        flash(f"{user.display_name} is now a {form.role.data}.")
    return redirect(url_for("admin.user_list"))


@bp.route("/users/<int:user_id>/codes-off", methods=["POST"])
@requires("users.manage")
def user_codes_off(user_id: int) -> Response:
    """Turn off someone's one-time codes when they have lost their phone and recovery codes."""
    user = _user_or_404(user_id)
    if ActionForm().validate_on_submit() and user.totp_enabled:
        users.disable_totp(get_db(), user.id, by=g.user.id)
        flash(
            f"One-time codes are off for {user.display_name}. Check who is asking before "
            "you do this: they can now sign in with their password alone and set codes up again."
        )
    return redirect(url_for("admin.user_list"))


@bp.route("/security", methods=["GET", "POST"])
@requires("users.manage")
def security() -> str | Response:
    """Let an admin require one-time codes for admins and leads."""
    db = get_db()
    name = "mfa_required_for_admins_and_leads"
    form = SecuritySettingsForm()
    if form.validate_on_submit():
        users.set_auth_setting(db, name, "1" if form.mfa_required.data else "0", by=g.user.id)
        flash(
            "Admins and leads signing in with a password now need a one-time code."
            if form.mfa_required.data
            else "One-time codes are now a choice for everyone."
        )
        return redirect(url_for("admin.security"))
    form.mfa_required.data = users.auth_setting(db, name) == "1"
    return render_template(
        "admin/security.html", form=form, sso_configured=bool(current_app.config["SSO_ISSUER"])
    )
