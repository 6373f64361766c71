"""The command line: every command has help, exit codes mean what they say, --instance works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from audit.cli import main
from audit.data import reviews, users
from audit.data.db import connect
from tests.helpers import REPO

GOOD_CSV = (
    "reference,case_type,team,referral_date\r\n"
    "TST-0001,CP,Team A,03/10/2026\r\n"
    "TST-0002,Child in need,Team B,2026-10-04\r\n"
    "TST-0003,Early help,Team A,\r\n"
)


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_every_command_has_help_and_a_docstring(runner: CliRunner) -> None:
    seen = []
    for path, command in _commands(main):
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, path
        assert command.help and len(command.help) > 10, path
        assert "Usage:" in result.output
        seen.append(" ".join(path))
    for expected in [
        "init",
        "serve",
        "demo",
        "user add",
        "user list",
        "rubric check",
        "rubric list",
        "rubric schema",
        "review list",
        "cases import",
        "cases sample",
    ]:
        assert expected in seen


def test_every_instance_using_command_offers_instance_option(runner: CliRunner) -> None:
    for path, command in _commands(main):
        if isinstance(command, click.Group) or path in {("rubric", "check"), ("rubric", "schema")}:
            continue
        assert "--instance" in runner.invoke(main, [*path, "--help"]).output, path


def test_python_dash_m_and_console_script_both_work() -> None:
    for argv in ([sys.executable, "-m", "audit", "--help"],):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=REPO)
        assert done.returncode == 0 and "rubric" in done.stdout


def test_init_creates_database_and_first_admin(runner: CliRunner, tmp_path: Path) -> None:
    instance = tmp_path / "inst"
    result = runner.invoke(main, ["init", "--instance", str(instance)])
    assert result.exit_code == 0, result.output
    assert str(instance.resolve()) in result.output
    assert "username: admin" in result.output
    password = result.output.split("password: ")[1].split()[0]
    db = connect(instance / "audit.db")
    assert users.authenticate(db, "admin", password) is not None
    again = runner.invoke(main, ["init", "--instance", str(instance)])
    assert again.exit_code == 0 and "no account created" in again.output
    db.conn.close()


def test_user_add_and_list_with_password_stdin(runner: CliRunner, tmp_path: Path) -> None:
    inst = str(tmp_path / "inst")
    result = runner.invoke(
        main,
        [
            "user",
            "add",
            "visitor",
            "--role",
            "reviewer",
            "--name",
            "Visiting Reviewer",
            "--password-stdin",
            "--instance",
            inst,
        ],
        input="long-enough-password\n",
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(main, ["user", "list", "--instance", inst])
    assert "visitor\treviewer\tactive\tVisiting Reviewer" in listed.output
    duplicate = runner.invoke(
        main,
        ["user", "add", "visitor", "--role", "lead", "--password-stdin", "--instance", inst],
        input="long-enough-password\n",
    )
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    short = runner.invoke(
        main,
        ["user", "add", "x", "--role", "lead", "--password-stdin", "--instance", inst],
        input="short\n",
    )
    assert short.exit_code == 1 and "at least 10" in short.output
    bad_role = runner.invoke(main, ["user", "add", "y", "--role", "boss", "--instance", inst])
    assert bad_role.exit_code == 2


def test_rubric_check_exit_codes(runner: CliRunner, tmp_path: Path) -> None:
    good = REPO / "rubrics" / "supervision-thematic.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: Bad Id\nversion: ''\n")
    assert runner.invoke(main, ["rubric", "check", str(good)]).exit_code == 0
    result = runner.invoke(main, ["rubric", "check", str(good), str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: " in result.output and "valid" in result.output
    assert runner.invoke(main, ["rubric", "check"]).exit_code == 2


def test_rubric_list_shows_builtin_and_instance_rubrics(runner: CliRunner, tmp_path: Path) -> None:
    inst = tmp_path / "inst"
    (inst / "rubrics").mkdir(parents=True)
    (inst / "rubrics" / "broken.yaml").write_text("id: [\n")
    result = runner.invoke(main, ["rubric", "list", "--instance", str(inst)])
    assert result.exit_code == 0
    assert "peer-safeguarding-health-check\t1.0" in result.output
    assert "INVALID" in result.output and "broken.yaml" in result.output


def test_demo_review_list_and_case_import(runner: CliRunner, tmp_path: Path) -> None:
    inst = str(tmp_path / "inst")
    seeded = runner.invoke(main, ["demo", "--instance", inst])
    assert seeded.exit_code == 0, seeded.output
    assert "lead" in seeded.output and "reviewer3" in seeded.output
    assert runner.invoke(main, ["demo", "--instance", inst]).exit_code == 1  # never over data
    listed = runner.invoke(main, ["review", "list", "--instance", inst])
    assert "Example Borough peer safeguarding health check" in listed.output
    assert "peer-safeguarding-health-check 1.0" in listed.output
    review_id = listed.output.split("\t")[0]
    good = tmp_path / "cases.csv"
    good.write_bytes(GOOD_CSV.encode("utf-8-sig"))
    result = runner.invoke(main, ["cases", "import", review_id[:8], str(good), "--instance", inst])
    assert result.exit_code == 0, result.output
    assert "Imported 3 case file(s)" in result.output
    again = runner.invoke(main, ["cases", "import", review_id, str(good), "--instance", inst])
    assert again.exit_code == 1 and "TST-0001" in again.output
    skipped = runner.invoke(
        main, ["cases", "import", review_id, str(good), "--skip-existing", "--instance", inst]
    )
    assert skipped.exit_code == 0 and "Imported 0" in skipped.output
    assert skipped.output.count("skipped row") == 3
    bad = tmp_path / "bad.csv"
    bad.write_text("reference,case_type,referral_date\nTST-0009,Martian,31/02/2026\n")
    rejected = runner.invoke(main, ["cases", "import", review_id, str(bad), "--instance", inst])
    assert rejected.exit_code == 1
    assert "Row 2, column case_type" in rejected.output
    assert "Row 2, column referral_date" in rejected.output
    db = connect(Path(inst) / "audit.db")
    assert len(reviews.case_files(db, review_id)) == 43  # nothing from the bad file
    db.conn.close()
    missing = runner.invoke(
        main, ["cases", "import", "no-such-review", str(good), "--instance", inst]
    )
    assert missing.exit_code == 1 and "no review matches" in missing.output


def test_cases_sample_is_reproducible_from_its_seed(runner: CliRunner, tmp_path: Path) -> None:
    population = tmp_path / "open.csv"
    lines = ["reference,case_type,team"]
    lines += [f"POP-{n:04d},{['CP', 'CIN', 'CLA'][n % 3]},Team {n % 2}" for n in range(60)]
    population.write_text("\n".join(lines) + "\n")
    drawn = []
    for name in ("one", "two"):
        inst = str(tmp_path / name)
        runner.invoke(main, ["demo", "--instance", inst])
        review_id = runner.invoke(main, ["review", "list", "--instance", inst]).output[:36]
        result = runner.invoke(
            main,
            [
                "cases",
                "sample",
                review_id,
                str(population),
                "--size",
                "12",
                "--by",
                "case_type",
                "--seed",
                "7",
                "--instance",
                inst,
            ],
        )
        assert result.exit_code == 0, result.output
        assert "Drew 12 of 60 cases" in result.output and "seed 7" in result.output
        db = connect(Path(inst) / "audit.db")
        refs = sorted(
            c["reference"]
            for c in reviews.case_files(db, review_id)
            if c["reference"].startswith("POP-")
        )
        settings = reviews.get(db, review_id).settings
        db.conn.close()
        assert settings["sampling"]["seed"] == 7 and settings["sampling"]["population"] == 60
        drawn.append(refs)
    assert drawn[0] == drawn[1] and len(drawn[0]) == 12
    too_many = runner.invoke(
        main, ["cases", "sample", review_id, str(population), "--size", "999", "--instance", inst]
    )
    assert too_many.exit_code == 1


@pytest.mark.parametrize("before", [True, False])
def test_instance_option_works_before_or_after_the_command(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, before: bool
) -> None:
    wanted, other = tmp_path / "wanted", tmp_path / "other"
    monkeypatch.setenv("CASE_AUDIT_INSTANCE", str(other))  # the option beats the variable
    argv = ["--instance", str(wanted), "init"] if before else ["init", "--instance", str(wanted)]
    result = runner.invoke(main, argv)
    assert result.exit_code == 0, result.output
    assert str(wanted.resolve()) in result.output
    assert (wanted / "audit.db").exists() and not (other / "audit.db").exists()
    listed = runner.invoke(
        main,
        [*argv[:-1], "user", "list"] if before else ["user", "list", "--instance", str(wanted)],
    )
    assert listed.output.startswith("admin\tadmin\tactive"), listed.output


def test_instance_after_the_command_wins_over_one_before(runner: CliRunner, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    result = runner.invoke(main, ["--instance", str(first), "init", "--instance", str(second)])
    assert result.exit_code == 0, result.output
    assert (second / "audit.db").exists() and not (first / "audit.db").exists()


def test_instance_before_the_command_is_described_in_help(runner: CliRunner) -> None:
    assert "applies to the command after it" in runner.invoke(main, ["--help"]).output


def _add_user(runner: CliRunner, inst: str, username: str, role: str) -> None:
    added = runner.invoke(
        main,
        ["--instance", inst, "user", "add", username, "--role", role, "--password-stdin"],
        input="long-enough-password\n",
    )
    assert added.exit_code == 0, added.output


def test_review_new_and_member_add_build_a_review_and_its_team(
    runner: CliRunner, tmp_path: Path
) -> None:
    inst = str(tmp_path / "inst")
    _add_user(runner, inst, "lead1", "lead")
    _add_user(runner, inst, "rev1", "reviewer")
    created = runner.invoke(
        main,
        [
            *("--instance", inst, "review", "new"),
            *("--rubric", "supervision-thematic", "--title", "  March self-audit "),
            *("--host", "Example Borough", "--kind", "self_audit"),
            *("--start", "2/3/2027", "--end", "2027-03-31", "--lead", "lead1"),
        ],
    )
    assert created.exit_code == 0, created.output
    review_id = created.output.strip().splitlines()[-1]
    db = connect(Path(inst) / "audit.db")
    made = reviews.get(db, review_id)
    assert (made.title, made.kind, made.start_date, made.end_date) == (
        "March self-audit",
        "self_audit",
        "2027-03-02",
        "2027-03-31",
    )
    assert made.rubric_id == "supervision-thematic" and made.status == "setting_up"
    lead = users.by_username(db, "lead1")
    assert lead is not None and reviews.membership(db, review_id, lead.id) == "lead"

    joined = runner.invoke(
        main, ["review", "member", "add", "March self-audit", "rev1", "--instance", inst]
    )
    assert joined.exit_code == 0, joined.output
    assert "to March self-audit as reviewer" in joined.output
    # A reviewer account asked to lead joins as a reviewer, as on the review's page.
    asked_lead = runner.invoke(
        main, ["--instance", inst, "review", "member", "add", review_id, "rev1", "--role", "lead"]
    )
    assert "has a reviewer account, so joins as a reviewer" in asked_lead.output
    reviewer = users.by_username(db, "rev1")
    assert reviewer is not None and reviews.membership(db, review_id, reviewer.id) == "reviewer"
    db.conn.close()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--rubric", "no-such-rubric"], "no valid rubric no-such-rubric"),
        (["--rubric", "supervision-thematic@9.9"], "supervision-thematic version 9.9"),
        (["--start", "31/02/2027"], "--start: Enter real dates"),
        (["--start", "2027-03-10", "--end", "2027-03-01"], "--end: The end date must be on or"),
        (["--programme", "nope"], "--programme: There is no programme 'nope'"),
        (["--title", "   "], "--title: Enter a title"),
        (["--lead", "nobody"], "--lead: 'nobody' is not an active admin or lead account"),
    ],
)
def test_review_new_refuses_bad_input_and_writes_nothing(
    runner: CliRunner, tmp_path: Path, extra: list[str], message: str
) -> None:
    inst = str(tmp_path / "inst")
    base = {"--rubric": "supervision-thematic", "--title": "T", "--host": "Example Borough"}
    for option, value in zip(extra[::2], extra[1::2], strict=True):
        base[option] = value
    argv = [item for pair in base.items() for item in pair]
    result = runner.invoke(main, ["review", "new", "--instance", inst, *argv])
    assert result.exit_code == 1 and message in result.output, result.output
    db = connect(Path(inst) / "audit.db")
    assert reviews.all_reviews(db) == []
    db.conn.close()


def test_review_member_add_refuses_unknown_or_deactivated_people(
    runner: CliRunner, tmp_path: Path
) -> None:
    inst = str(tmp_path / "inst")
    _add_user(runner, inst, "gone", "reviewer")
    created = runner.invoke(
        main,
        [
            *("--instance", inst, "review", "new", "--rubric", "supervision-thematic"),
            *("--title", "T", "--host", "H"),
        ],
    )
    review_id = created.output.strip().splitlines()[-1]
    db = connect(Path(inst) / "audit.db")
    gone = users.by_username(db, "gone")
    assert gone is not None
    users.set_active(db, gone.id, False, by=None)
    for username in ("nobody", "gone"):
        result = runner.invoke(
            main, ["--instance", inst, "review", "member", "add", review_id, username]
        )
        assert result.exit_code == 1 and "no active account" in result.output
    assert reviews.members(db, review_id) == []
    missing = runner.invoke(main, ["--instance", inst, "review", "member", "add", "zzz", "gone"])
    assert missing.exit_code == 1 and "no review matches 'zzz'" in missing.output
    db.conn.close()
