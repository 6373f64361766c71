"""Ordered, recorded schema migrations: each runs once, in order, inside one transaction."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from audit.data import stamps
from audit.data.db import utcnow, write

Migration = tuple[str, Callable[[sqlite_utils.Database], None]]


_CORE_SQL = """
CREATE TABLE user (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'lead', 'reviewer')),
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE programme (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('peer_review', 'self_audit', 'thematic')),
    description TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES user(id),
    created_at TEXT NOT NULL
);
CREATE TABLE review (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    host_organisation TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('peer_review', 'self_audit', 'thematic')),
    start_date TEXT,
    end_date TEXT,
    status TEXT NOT NULL DEFAULT 'setting_up'
        CHECK (status IN ('setting_up', 'in_progress', 'moderation', 'complete', 'closed')),
    rubric_id TEXT NOT NULL,
    rubric_version TEXT NOT NULL,
    rubric_hash TEXT NOT NULL,
    rubric_text TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    executive_summary TEXT NOT NULL DEFAULT '',
    programme_id TEXT REFERENCES programme(id),
    created_by INTEGER REFERENCES user(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE review_member (
    review_id TEXT NOT NULL REFERENCES review(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES user(id),
    role TEXT NOT NULL CHECK (role IN ('lead', 'reviewer')),
    added_at TEXT NOT NULL,
    PRIMARY KEY (review_id, user_id)
);
CREATE TABLE case_file (
    id TEXT PRIMARY KEY,
    review_id TEXT NOT NULL REFERENCES review(id) ON DELETE CASCADE,
    reference TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    case_type TEXT NOT NULL,
    team TEXT NOT NULL DEFAULT '',
    worker_role TEXT NOT NULL DEFAULT '',
    age_band TEXT NOT NULL DEFAULT '',
    dates TEXT NOT NULL DEFAULT '{}',
    assigned_to INTEGER REFERENCES user(id),
    second_audit INTEGER NOT NULL DEFAULT 0 CHECK (second_audit IN (0, 1)),
    second_assigned_to INTEGER REFERENCES user(id),
    created_at TEXT NOT NULL,
    UNIQUE (review_id, reference),
    UNIQUE (review_id, pseudonym)
);
CREATE TABLE case_audit (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES case_file(id) ON DELETE CASCADE,
    review_id TEXT NOT NULL REFERENCES review(id) ON DELETE CASCADE,
    reviewer_id INTEGER NOT NULL REFERENCES user(id),
    purpose TEXT NOT NULL DEFAULT 'first' CHECK (purpose IN ('first', 'second', 're_audit')),
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted')),
    version INTEGER NOT NULL DEFAULT 1,
    earlier_audit_id TEXT REFERENCES case_audit(id),
    sections_not_applicable TEXT NOT NULL DEFAULT '[]',
    feedback TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    submitted_at TEXT
);
CREATE TABLE answer (
    audit_id TEXT NOT NULL REFERENCES case_audit(id) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    value TEXT,
    not_applicable INTEGER NOT NULL DEFAULT 0 CHECK (not_applicable IN (0, 1)),
    evidence TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (audit_id, question_id)
)
"""


_OVERSIGHT_SQL = """
CREATE TABLE escalation (
    id TEXT PRIMARY KEY,
    review_id TEXT NOT NULL REFERENCES review(id) ON DELETE CASCADE,
    case_id TEXT NOT NULL REFERENCES case_file(id) ON DELETE CASCADE,
    audit_id TEXT NOT NULL REFERENCES case_audit(id) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    raised_by INTEGER NOT NULL REFERENCES user(id),
    raised_at TEXT NOT NULL,
    told_who TEXT,
    told_at TEXT,
    agreed_action TEXT,
    recorded_by INTEGER REFERENCES user(id),
    recorded_at TEXT,
    withdrawn_by INTEGER REFERENCES user(id),
    withdrawn_at TEXT
);
CREATE TABLE moderation (
    id TEXT PRIMARY KEY,
    audit_id TEXT NOT NULL REFERENCES case_audit(id) ON DELETE CASCADE,
    question_id TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('agreed', 'changed')),
    original_value TEXT,
    moderated_value TEXT,
    reason TEXT NOT NULL DEFAULT '',
    moderator_id INTEGER NOT NULL REFERENCES user(id),
    created_at TEXT NOT NULL
);
CREATE TABLE finding (
    id TEXT PRIMARY KEY,
    review_id TEXT NOT NULL REFERENCES review(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('strength', 'development')),
    status TEXT NOT NULL DEFAULT 'suggested'
        CHECK (status IN ('suggested', 'accepted', 'rejected', 'merged')),
    origin TEXT NOT NULL DEFAULT 'audits' CHECK (origin IN ('audits', 'other')),
    text TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    question_ids TEXT NOT NULL DEFAULT '[]',
    evidence TEXT NOT NULL DEFAULT '{}',
    flagged INTEGER NOT NULL DEFAULT 0 CHECK (flagged IN (0, 1)),
    merged_into TEXT REFERENCES finding(id),
    created_by INTEGER REFERENCES user(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE action (
    id TEXT PRIMARY KEY,
    review_id TEXT NOT NULL REFERENCES review(id) ON DELETE CASCADE,
    finding_id TEXT REFERENCES finding(id) ON DELETE CASCADE,
    audit_id TEXT REFERENCES case_audit(id) ON DELETE CASCADE,
    what TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    due_date TEXT,
    status TEXT NOT NULL DEFAULT 'not_started'
        CHECK (status IN ('not_started', 'in_progress', 'done', 'dropped')),
    created_by INTEGER REFERENCES user(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE action_note (
    id TEXT PRIMARY KEY,
    action_id TEXT NOT NULL REFERENCES action(id) ON DELETE CASCADE,
    note TEXT NOT NULL,
    noted_on TEXT NOT NULL,
    created_by INTEGER REFERENCES user(id),
    created_at TEXT NOT NULL
);
CREATE TABLE change_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user_id INTEGER REFERENCES user(id),
    review_id TEXT,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    before TEXT,
    after TEXT
)
"""


_OPERATIONS_SQL = """
CREATE TABLE sign_in_attempt (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    username TEXT NOT NULL COLLATE NOCASE,
    address TEXT NOT NULL,
    succeeded INTEGER NOT NULL CHECK (succeeded IN (0, 1))
);
CREATE TABLE issued_report (
    id TEXT PRIMARY KEY,
    review_id TEXT NOT NULL REFERENCES review(id) ON DELETE CASCADE,
    audience TEXT NOT NULL CHECK (audience IN ('internal', 'public')),
    issued_by INTEGER REFERENCES user(id),
    issued_at TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    filename TEXT NOT NULL,
    pdf BLOB NOT NULL
);
CREATE TABLE report_job (
    id TEXT PRIMARY KEY,
    review_id TEXT NOT NULL REFERENCES review(id) ON DELETE CASCADE,
    audience TEXT NOT NULL CHECK (audience IN ('internal', 'public')),
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    requested_by INTEGER REFERENCES user(id),
    requested_at TEXT NOT NULL,
    finished_at TEXT,
    error TEXT,
    pdf BLOB
);
CREATE TABLE bank_holiday (
    day TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    added_by INTEGER REFERENCES user(id)
);
CREATE INDEX idx_review_member_user ON review_member(user_id);
CREATE INDEX idx_case_file_review ON case_file(review_id, pseudonym);
CREATE INDEX idx_case_audit_case ON case_audit(case_id, purpose);
CREATE INDEX idx_case_audit_review ON case_audit(review_id, status);
CREATE INDEX idx_case_audit_reviewer ON case_audit(reviewer_id);
CREATE INDEX idx_answer_question ON answer(question_id, value);
CREATE INDEX idx_escalation_review ON escalation(review_id);
CREATE INDEX idx_moderation_audit ON moderation(audit_id);
CREATE INDEX idx_finding_review ON finding(review_id, kind, position);
CREATE INDEX idx_change_log_review ON change_log(review_id, at);
CREATE INDEX idx_sign_in_attempt ON sign_in_attempt(username, at);
CREATE INDEX idx_sign_in_attempt_address ON sign_in_attempt(address, at)
"""


_PENDING_SQL = """
CREATE TABLE pending_save (
    token TEXT PRIMARY KEY,
    audit_id TEXT NOT NULL REFERENCES case_audit(id) ON DELETE CASCADE,
    form TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX idx_pending_save_audit ON pending_save(audit_id)
"""


# Server-side sessions, single sign-on identities, one-time codes and the auth settings.
_AUTH_SQL = """
CREATE TABLE auth_session (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER REFERENCES user(id) ON DELETE CASCADE,
    data TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idx_auth_session_user ON auth_session(user_id);
CREATE INDEX idx_auth_session_seen ON auth_session(last_seen_at);
ALTER TABLE user ADD COLUMN email TEXT;
CREATE UNIQUE INDEX idx_user_email ON user(email COLLATE NOCASE) WHERE email IS NOT NULL;
ALTER TABLE user ADD COLUMN awaiting_role INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user ADD COLUMN totp_secret TEXT;
ALTER TABLE user ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
CREATE TABLE user_identity (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    linked_at TEXT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE TABLE recovery_code (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX idx_recovery_code_user ON recovery_code(user_id);
CREATE TABLE auth_setting (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_by INTEGER REFERENCES user(id),
    updated_at TEXT NOT NULL
)
"""


_CALIBRATION_SQL = """
CREATE TABLE calibration_exercise (
    id TEXT PRIMARY KEY,
    review_id TEXT NOT NULL REFERENCES review(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    results_opened_at TEXT,
    results_opened_by INTEGER REFERENCES user(id),
    created_by INTEGER REFERENCES user(id),
    created_at TEXT NOT NULL
);
CREATE INDEX idx_calibration_exercise_review ON calibration_exercise(review_id);
CREATE TABLE calibration_case (
    exercise_id TEXT NOT NULL REFERENCES calibration_exercise(id) ON DELETE CASCADE,
    case_id TEXT NOT NULL REFERENCES case_file(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (exercise_id, case_id)
);
CREATE TABLE calibration_participant (
    exercise_id TEXT NOT NULL REFERENCES calibration_exercise(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES user(id),
    submitted_at TEXT,
    PRIMARY KEY (exercise_id, user_id)
);
CREATE TABLE calibration_grade (
    exercise_id TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES case_file(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    question_id TEXT NOT NULL,
    value TEXT,
    evidence TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (exercise_id, case_id, user_id, question_id),
    FOREIGN KEY (exercise_id, user_id)
        REFERENCES calibration_participant(exercise_id, user_id) ON DELETE CASCADE
);
CREATE TABLE calibration_agreed (
    exercise_id TEXT NOT NULL REFERENCES calibration_exercise(id) ON DELETE CASCADE,
    case_id TEXT NOT NULL REFERENCES case_file(id) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    value TEXT NOT NULL,
    rationale TEXT NOT NULL,
    agreed_by INTEGER REFERENCES user(id),
    agreed_at TEXT NOT NULL,
    PRIMARY KEY (exercise_id, case_id, question_id)
)
"""


# Collaborative audit: the conversation with the practitioner after scoring (one per audit,
# one row per section grade discussed) and the family's view of the help they received.
_COLLAB_SQL = """
CREATE TABLE conversation (
    audit_id TEXT PRIMARY KEY REFERENCES case_audit(id) ON DELETE CASCADE,
    held_on TEXT NOT NULL,
    worker_role TEXT NOT NULL,
    manager_role TEXT NOT NULL DEFAULT '',
    worker_name TEXT NOT NULL DEFAULT '',
    will_do_differently TEXT NOT NULL DEFAULT '',
    manager_response TEXT NOT NULL DEFAULT '',
    recorded_by INTEGER REFERENCES user(id),
    recorded_at TEXT NOT NULL
);
CREATE TABLE conversation_section (
    audit_id TEXT NOT NULL REFERENCES conversation(audit_id) ON DELETE CASCADE,
    section_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    grade TEXT NOT NULL,
    agrees TEXT NOT NULL CHECK (agrees IN ('yes', 'no')),
    practitioner_view TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (audit_id, section_id)
);
CREATE TABLE family_feedback (
    audit_id TEXT PRIMARY KEY REFERENCES case_audit(id) ON DELETE CASCADE,
    consent TEXT NOT NULL CHECK (consent IN ('yes', 'no')),
    contact_method TEXT NOT NULL DEFAULT '',
    family_said TEXT NOT NULL DEFAULT '',
    felt_listened_to TEXT NOT NULL DEFAULT 'not_asked'
        CHECK (felt_listened_to IN ('yes', 'partly', 'no', 'not_asked')),
    knows_plan TEXT NOT NULL DEFAULT 'not_asked'
        CHECK (knows_plan IN ('yes', 'partly', 'no', 'not_asked')),
    life_better TEXT NOT NULL DEFAULT 'not_asked'
        CHECK (life_better IN ('yes', 'partly', 'no', 'not_asked')),
    quote_included INTEGER NOT NULL DEFAULT 0 CHECK (quote_included IN (0, 1)),
    recorded_by INTEGER REFERENCES user(id),
    recorded_at TEXT NOT NULL
)
"""


# Learning themes: a list a lead keeps per programme (or, for a review imported outside any
# programme, the review's own), and the tags on evidence notes, findings and conversations.
# A theme is never deleted while a tag uses it (no cascade from theme to tag).
_THEMES_SQL = """
CREATE TABLE theme (
    id TEXT PRIMARY KEY,
    programme_id TEXT REFERENCES programme(id) ON DELETE CASCADE,
    review_id TEXT REFERENCES review(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    retired INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
    created_by INTEGER REFERENCES user(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((programme_id IS NULL) <> (review_id IS NULL))
);
CREATE INDEX idx_theme_programme ON theme(programme_id);
CREATE INDEX idx_theme_review ON theme(review_id);
CREATE TABLE evidence_theme (
    audit_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    theme_id TEXT NOT NULL REFERENCES theme(id),
    tagged_by INTEGER REFERENCES user(id),
    tagged_at TEXT NOT NULL,
    PRIMARY KEY (audit_id, question_id, theme_id),
    FOREIGN KEY (audit_id, question_id) REFERENCES answer(audit_id, question_id) ON DELETE CASCADE
);
CREATE INDEX idx_evidence_theme_theme ON evidence_theme(theme_id);
CREATE TABLE finding_theme (
    finding_id TEXT NOT NULL REFERENCES finding(id) ON DELETE CASCADE,
    theme_id TEXT NOT NULL REFERENCES theme(id),
    tagged_by INTEGER REFERENCES user(id),
    tagged_at TEXT NOT NULL,
    PRIMARY KEY (finding_id, theme_id)
);
CREATE INDEX idx_finding_theme_theme ON finding_theme(theme_id);
CREATE TABLE conversation_theme (
    audit_id TEXT NOT NULL REFERENCES conversation(audit_id) ON DELETE CASCADE,
    theme_id TEXT NOT NULL REFERENCES theme(id),
    tagged_by INTEGER REFERENCES user(id),
    tagged_at TEXT NOT NULL,
    PRIMARY KEY (audit_id, theme_id)
);
CREATE INDEX idx_conversation_theme_theme ON conversation_theme(theme_id)
"""


_BOUNDED_SESSIONS_SQL = """
CREATE TABLE lapsed_session (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
    lapsed_at TEXT NOT NULL
);
CREATE INDEX idx_lapsed_session_at ON lapsed_session(lapsed_at);
DELETE FROM pending_save;
ALTER TABLE pending_save ADD COLUMN user_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX idx_pending_save_user ON pending_save(user_id)
"""

# Multi-agency case audit. Agencies are the installation's list (an admin adds more); a person
# belongs to one. In a multi-agency review a child is known to some agencies, each with its own
# reference; each agency audits its own records of the child (agency_audit, blind to the other
# agencies until the child's panel opens); the panel (the audit discussion) records the agreed
# answers, the learning with themes and the actions each agency owns (rows of ``action``, linked
# here). Alerts raised by an agency's or the panel's adverse critical answer are kept like
# ``escalation``, which can only point at a case_audit.
_AGENCY_SQL = """
CREATE TABLE agency (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    retired INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
    position INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES user(id),
    created_at TEXT NOT NULL
);
ALTER TABLE user ADD COLUMN agency_id TEXT REFERENCES agency(id);
CREATE TABLE agency_member (
    review_id TEXT NOT NULL REFERENCES review(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES user(id),
    added_by INTEGER REFERENCES user(id),
    added_at TEXT NOT NULL,
    PRIMARY KEY (review_id, user_id)
);
CREATE INDEX idx_agency_member_user ON agency_member(user_id);
CREATE TABLE case_agency (
    case_id TEXT NOT NULL REFERENCES case_file(id) ON DELETE CASCADE,
    review_id TEXT NOT NULL REFERENCES review(id) ON DELETE CASCADE,
    agency_id TEXT NOT NULL REFERENCES agency(id),
    reference TEXT NOT NULL DEFAULT '',
    added_at TEXT NOT NULL,
    PRIMARY KEY (case_id, agency_id)
);
CREATE INDEX idx_case_agency_review ON case_agency(review_id, agency_id);
CREATE TABLE agency_audit (
    id TEXT PRIMARY KEY,
    review_id TEXT NOT NULL REFERENCES review(id) ON DELETE CASCADE,
    case_id TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted')),
    version INTEGER NOT NULL DEFAULT 1,
    sections_not_applicable TEXT NOT NULL DEFAULT '[]',
    started_by INTEGER REFERENCES user(id),
    updated_by INTEGER REFERENCES user(id),
    submitted_by INTEGER REFERENCES user(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    submitted_at TEXT,
    UNIQUE (case_id, agency_id),
    FOREIGN KEY (case_id, agency_id) REFERENCES case_agency(case_id, agency_id) ON DELETE CASCADE
);
CREATE INDEX idx_agency_audit_review ON agency_audit(review_id, agency_id);
CREATE TABLE agency_answer (
    audit_id TEXT NOT NULL REFERENCES agency_audit(id) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    value TEXT,
    not_applicable INTEGER NOT NULL DEFAULT 0 CHECK (not_applicable IN (0, 1)),
    evidence TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (audit_id, question_id)
);
CREATE TABLE panel (
    case_id TEXT PRIMARY KEY REFERENCES case_file(id) ON DELETE CASCADE,
    review_id TEXT NOT NULL REFERENCES review(id) ON DELETE CASCADE,
    opened_at TEXT NOT NULL,
    opened_by INTEGER REFERENCES user(id),
    held_on TEXT,
    agreed_at TEXT,
    agreed_by INTEGER REFERENCES user(id),
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_panel_review ON panel(review_id);
CREATE TABLE panel_answer (
    case_id TEXT NOT NULL REFERENCES panel(case_id) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    value TEXT,
    not_applicable INTEGER NOT NULL DEFAULT 0 CHECK (not_applicable IN (0, 1)),
    evidence TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (case_id, question_id)
);
CREATE TABLE agency_escalation (
    id TEXT PRIMARY KEY,
    review_id TEXT NOT NULL REFERENCES review(id) ON DELETE CASCADE,
    case_id TEXT NOT NULL REFERENCES case_file(id) ON DELETE CASCADE,
    agency_audit_id TEXT REFERENCES agency_audit(id) ON DELETE CASCADE,
    agency_id TEXT REFERENCES agency(id),
    question_id TEXT NOT NULL,
    raised_by INTEGER NOT NULL REFERENCES user(id),
    raised_at TEXT NOT NULL,
    told_who TEXT,
    told_at TEXT,
    agreed_action TEXT,
    recorded_by INTEGER REFERENCES user(id),
    recorded_at TEXT,
    withdrawn_by INTEGER REFERENCES user(id),
    withdrawn_at TEXT
);
CREATE INDEX idx_agency_escalation_review ON agency_escalation(review_id);
CREATE INDEX idx_agency_escalation_audit ON agency_escalation(agency_audit_id);
CREATE TABLE panel_learning (
    id TEXT PRIMARY KEY,
    review_id TEXT NOT NULL REFERENCES review(id) ON DELETE CASCADE,
    case_id TEXT NOT NULL REFERENCES case_file(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    created_by INTEGER REFERENCES user(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_panel_learning_review ON panel_learning(review_id, case_id);
CREATE TABLE panel_learning_theme (
    learning_id TEXT NOT NULL REFERENCES panel_learning(id) ON DELETE CASCADE,
    theme_id TEXT NOT NULL REFERENCES theme(id),
    tagged_by INTEGER REFERENCES user(id),
    tagged_at TEXT NOT NULL,
    PRIMARY KEY (learning_id, theme_id)
);
CREATE INDEX idx_panel_learning_theme_theme ON panel_learning_theme(theme_id);
CREATE TABLE agency_action (
    action_id TEXT PRIMARY KEY REFERENCES action(id) ON DELETE CASCADE,
    agency_id TEXT NOT NULL REFERENCES agency(id),
    case_id TEXT REFERENCES case_file(id) ON DELETE CASCADE
);
CREATE INDEX idx_agency_action_agency ON agency_action(agency_id);
CREATE TABLE agency_audit_conflict (
    id TEXT PRIMARY KEY,
    review_id TEXT NOT NULL REFERENCES review(id) ON DELETE CASCADE,
    agency_audit_id TEXT NOT NULL REFERENCES agency_audit(id) ON DELETE CASCADE,
    received_at TEXT NOT NULL,
    received_by INTEGER REFERENCES user(id),
    exported_at TEXT,
    incoming TEXT NOT NULL
)
"""

# The installation's first list of agencies: the partners a safeguarding children partnership
# usually audits with. Ids are what rubrics name in ``agencies: [...]``.
DEFAULT_AGENCIES = (
    ("childrens_social_care", "Children's social care"),
    ("police", "Police"),
    ("health_visiting", "Health visiting"),
    ("school_nursing", "School nursing"),
    ("gp", "GP practice"),
    ("hospital", "Hospital"),
    ("education", "Education"),
    ("probation", "Probation"),
    ("housing", "Housing"),
    ("youth_justice", "Youth justice"),
    ("early_help", "Early help"),
)


def _agencies(db: sqlite_utils.Database) -> None:
    _run(_AGENCY_SQL)(db)
    now = utcnow()
    for position, (agency_id, name) in enumerate(DEFAULT_AGENCIES):
        db.execute(
            "INSERT INTO agency (id, name, position, created_at) VALUES (?, ?, ?, ?)",
            [agency_id, name, position, now],
        )


def _run(sql: str) -> Callable[[sqlite_utils.Database], None]:
    """Return a migration that runs each statement of ``sql``."""

    def migrate(db: sqlite_utils.Database) -> None:
        for statement in sql.split(";\n"):
            if statement.strip():
                db.execute(statement)

    return migrate


MIGRATIONS: list[Migration] = [
    ("0001_core", _run(_CORE_SQL)),
    ("0002_oversight_findings_actions_log", _run(_OVERSIGHT_SQL)),
    ("0003_operations_and_indexes", _run(_OPERATIONS_SQL)),
    # Work typed while a sign-in ran out, kept until the reviewer signs in again and saves.
    ("0004_pending_save", _run(_PENDING_SQL)),
    # Every draft save looks up the audit's escalations.
    (
        "0005_escalation_audit_index",
        _run("CREATE INDEX idx_escalation_audit ON escalation(audit_id)"),
    ),
    ("auth_sessions_sso_mfa", _run(_AUTH_SQL)),
    # Settings of the whole instance an admin changes on a page (the nation, for bank holidays).
    (
        "misc_instance_setting",
        _run("CREATE TABLE instance_setting (key TEXT PRIMARY KEY, value TEXT NOT NULL)"),
    ),
    # Calibration panels: several people grade the same case blind, then agree the grades.
    ("calibration_exercises", _run(_CALIBRATION_SQL)),
    ("collab_conversations_family_feedback", _run(_COLLAB_SQL)),
    # A programme's calibration exercise: hosted by one of the programme's reviews (its rubric
    # and case files), run from the programme page, open to participants from any review.
    (
        "calexports_programme_exercises",
        _run(
            "ALTER TABLE calibration_exercise ADD COLUMN programme_id TEXT"
            " REFERENCES programme(id);\n"
            "CREATE INDEX idx_calibration_exercise_programme"
            " ON calibration_exercise(programme_id)"
        ),
    ),
    ("themes_learning_themes", _run(_THEMES_SQL)),
    # Unsaved work is kept only for the reviewer whose session ran out, who is proved by the
    # lapsed session: remember for a day which user a timed-out session belonged to, and
    # whose work each kept form is (kept forms from before had no owner: they are dropped).
    ("bounded_lapsed_sessions_pending_owner", _run(_BOUNDED_SESSIONS_SQL)),
    # Figures are cached per review until its data changes; triggers keep a stamp per review.
    ("bounded_data_stamps", lambda db: stamps.ensure_triggers(db)),
    ("agency_multi_agency_audit", _agencies),
]


def applied(db: sqlite_utils.Database) -> list[str]:
    """Return the names of migrations already recorded in the database."""
    if "schema_migration" not in db.table_names():
        return []
    return [row["name"] for row in db.query("SELECT name FROM schema_migration ORDER BY id")]


def migrate(db: sqlite_utils.Database, upto: str | None = None) -> list[str]:
    """Apply every migration not yet recorded, in order; return the names applied.

    ``upto`` stops after the named migration, which tests use to build an old database.
    """
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migration ("
        "id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, applied_at TEXT NOT NULL)"
    )
    done: list[str] = []
    for name, step in MIGRATIONS:
        with write(db):
            # Re-read inside the lock: another process may have migrated meanwhile.
            if name not in applied(db):
                step(db)
                db.execute(
                    "INSERT INTO schema_migration (name, applied_at) VALUES (?, ?)",
                    [name, utcnow()],
                )
                done.append(name)
        if name == upto:
            break
    else:
        # Tables added by any migration get their stamp triggers (audit/data/stamps.py).
        with write(db):
            stamps.ensure_triggers(db)
    return done


def latest() -> str:
    """Return the name of the newest migration."""
    return MIGRATIONS[-1][0]
