"""Seed the demo review: synthetic cases, a lead and three reviewers, deterministic from a seed.

Every name and reference here is invented. Passwords are generated afresh for each instance
and written to ``demo-credentials.txt`` in the instance folder (owner-only), never committed.
"""

from __future__ import annotations

import os
import random
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import sqlite_utils

from audit.data import reviews, users
from audit.rubric import RubricLibrary

DEMO_SEED = 2012
DEMO_TITLE = "Example Borough peer safeguarding health check"
DEMO_RUBRIC = "peer-safeguarding-health-check"
DEMO_HOST = "Example Borough Council"

# (username, display name, account role, role in the demo review)
DEMO_PEOPLE = [
    ("admin", "Demo Administrator", "admin", None),
    ("lead", "Demo Lead Reviewer", "lead", "lead"),
    ("reviewer1", "Demo Reviewer One", "reviewer", "reviewer"),
    ("reviewer2", "Demo Reviewer Two", "reviewer", "reviewer"),
    ("reviewer3", "Demo Reviewer Three", "reviewer", "reviewer"),
]

# A realistic mix for a 40-case health check: more statutory than early help.
CASE_MIX = [
    ("early_help", 6),
    ("referral_assessment", 8),
    ("cin", 8),
    ("cp", 9),
    ("cla", 6),
    ("care_leaver", 3),
]
TEAMS = {
    "early_help": ["Early Help North", "Early Help South"],
    "referral_assessment": ["Assessment Team 1", "Assessment Team 2"],
    "cin": ["Family Support East", "Family Support West"],
    "cp": ["Family Support East", "Family Support West"],
    "cla": ["Children in Care"],
    "care_leaver": ["Leaving Care"],
}
WORKER_ROLES = ["Social worker", "Senior practitioner", "Newly qualified social worker"]
AGE_BANDS = ["0-4", "5-9", "10-15", "16-17", "18-21"]


@dataclass(frozen=True)
class DemoCredential:
    """A demo user's sign-in details."""

    username: str
    password: str
    role: str


class DemoAlreadySeeded(Exception):
    """The instance already holds data, so the demo is not seeded over it."""


def _password() -> str:
    return "demo-" + secrets.token_urlsafe(9)


def _case_dates(rng: random.Random, case_type: str, start: date) -> dict[str, str]:
    """Make plausible, sometimes late, sometimes missing dates for timeliness measures."""
    referral = start - timedelta(days=rng.randint(40, 400))
    assessment_start = referral + timedelta(days=rng.randint(0, 3))
    completed = assessment_start + timedelta(days=rng.choice([6, 9, 12, 14, 20, 30, 45, 52]))
    dates = {
        "referral_date": referral,
        "assessment_start_date": assessment_start,
        "assessment_completed_date": completed,
    }
    if case_type in {"cin", "cp", "cla", "care_leaver"}:
        dates["plan_start_date"] = completed + timedelta(days=rng.randint(3, 25))
    if case_type == "cp":
        strategy = referral + timedelta(days=rng.randint(0, 2))
        dates["strategy_discussion_date"] = strategy
        dates["initial_conference_date"] = strategy + timedelta(days=rng.choice([10, 14, 19, 24]))
    last_supervision = start - timedelta(days=rng.randint(1, 40))
    dates["last_supervision_date"] = last_supervision
    dates["previous_supervision_date"] = last_supervision - timedelta(
        days=rng.choice([14, 21, 28, 35, 49])
    )
    if rng.random() < 0.1:
        dates.pop("assessment_completed_date")  # not recorded: a realistic gap
    return {key: value.isoformat() for key, value in dates.items()}


def demo_cases(seed: int = DEMO_SEED, start: date = date(2026, 10, 27)) -> list[dict]:
    """Return the 40 synthetic demo case files, the same every time for the same seed."""
    rng = random.Random(seed)
    cases = []
    used: set[str] = set()
    for case_type, count in CASE_MIX:
        for _ in range(count):
            reference = f"EXB-{rng.randint(100000, 999999)}"
            while reference in used:
                reference = f"EXB-{rng.randint(100000, 999999)}"
            used.add(reference)
            cases.append(
                {
                    "reference": reference,
                    "case_type": case_type,
                    "team": rng.choice(TEAMS[case_type]),
                    "worker_role": rng.choice(WORKER_ROLES),
                    "age_band": (
                        "18-21" if case_type == "care_leaver" else rng.choice(AGE_BANDS[:4])
                    ),
                    "dates": _case_dates(rng, case_type, start),
                }
            )
    rng.shuffle(cases)
    return cases


def seed(db: sqlite_utils.Database, library: RubricLibrary, instance: Path) -> list[DemoCredential]:
    """Seed the demo into an empty database and return the sign-in details."""
    if users.count(db) or db.execute("SELECT count(*) FROM review").fetchone()[0]:
        raise DemoAlreadySeeded("the instance already has users or reviews")
    credentials = []
    people: dict[str, users.User] = {}
    for username, name, role, _ in DEMO_PEOPLE:
        password = _password()
        people[username] = users.create(db, username, password, role, display_name=name)
        credentials.append(DemoCredential(username, password, role))
    lead = people["lead"]
    rubric = library.get(DEMO_RUBRIC)
    review = reviews.create(
        db,
        title=DEMO_TITLE,
        host_organisation=DEMO_HOST,
        kind="peer_review",
        rubric=rubric,
        start_date="2026-10-27",
        end_date="2026-10-29",
        by=lead.id,
    )
    for username, _, _, review_role in DEMO_PEOPLE:
        if review_role:
            reviews.add_member(db, review.id, people[username].id, review_role, by=lead.id)
    reviewer_ids = [people[f"reviewer{n}"].id for n in (1, 2, 3)]
    cases = demo_cases()
    for index, case in enumerate(cases):
        case["assigned_to"] = reviewer_ids[index % len(reviewer_ids)]
    reviews.add_case_files(db, review.id, cases, by=lead.id)
    write_credentials(instance, credentials)
    return credentials


def write_credentials(instance: Path, credentials: list[DemoCredential]) -> Path:
    """Keep the demo passwords where the person who ran the demo can find them again."""
    path = instance / "demo-credentials.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# Demo sign-in details for this instance (synthetic users).\n")
        for cred in credentials:
            handle.write(f"{cred.username}\t{cred.password}\t{cred.role}\n")
    return path


def read_credentials(instance: Path) -> list[DemoCredential]:
    """Return the demo sign-in details saved when the demo was seeded, if any."""
    path = instance / "demo-credentials.txt"
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        username, password, role = line.split("\t")
        found.append(DemoCredential(username, password, role))
    return found
