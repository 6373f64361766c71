"""Hostile files through every way in: each is refused whole with its reason, and nothing is stored.

The corpus is in tests/hostile.py (the five found by the attack plus zip bombs, deep and
aliased YAML, huge fields, invalid UTF-8, formula cells and NUL bytes). Each file goes
through the web upload and through the command line. Files that are big only to pass a
limit are made at a hundredth of their size here, with that limit lowered to match; the
real sizes are fed in separate processes by bench/hostile.py, which times them.
"""

from __future__ import annotations

import gc
import io
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit import limits
from audit.cli import main
from tests.conftest import csrf_token
from tests.helpers import make_review
from tests.hostile import CORPUS, Hostile

SCALE = 0.01
SMALL_LIMITS = {
    "JSON_VALUES": 20_000,
    "JSON_STRING_CHARS": 10_000,
    "BUNDLE_BYTES": 400_000,
    "RUBRIC_BYTES": 20_000,
    "YAML_SCALAR_CHARS": 1_000,
    "XLSX_UNPACKED_BYTES": 1_000_000,
    "CASE_LIST_CELLS": 5_000,
    "CASE_LIST_BYTES": 200_000,
}
ROUTES = {"bundle": "/reviews/import", "rubric": "/rubrics/upload"}
FIELDS = {"bundle": "bundle_file", "rubric": "rubric_file", "caselist": "case_file"}


def table_counts(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Rows in every table: what a refused file must leave exactly as it was."""
    names = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {name: db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SMALL_LIMITS.items():
        monkeypatch.setattr(limits, name, value)


@pytest.fixture
def world(app, db, people, auth, client):  # type: ignore[no-untyped-def]
    review, _cases = make_review(db, people)
    auth.sign_in("lead")
    return review


def _files(instance: Path) -> set[Path]:
    return {path for path in instance.rglob("*") if path.is_file() and "-wal" not in path.name}


def _collect_spooled_uploads() -> None:
    """Collect the test client's spooled upload files now, quietly (see conftest.py)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def _make(hostile: Hostile, folder: Path) -> Path:
    return hostile.write(folder, SCALE)


def test_each_is_refused_through_the_web(  # type: ignore[no-untyped-def]
    small_limits, world, client, db, instance, tmp_path
) -> None:
    for hostile in CORPUS:
        path = _make(hostile, tmp_path)
        routes = (
            [f"/reviews/{world.id}/cases/import", f"/reviews/{world.id}/cases/sample"]
            if hostile.kind == "caselist"
            else [ROUTES[hostile.kind]]
        )
        for route in routes:
            before, files_before = table_counts(db), _files(instance)
            data = {
                "csrf_token": csrf_token(client.get(route).text),
                FIELDS[hostile.kind]: (io.BytesIO(path.read_bytes()), path.name),
            }
            if route.endswith("/sample"):
                data["size"] = "1"
            response = client.post(route, data=data, content_type="multipart/form-data")
            page = response.get_data(as_text=True).replace("&#34;", '"')
            response.close()
            where = (hostile.name, route)
            assert response.status_code == 200, (*where, response.status_code)
            assert hostile.refusal in page, (*where, page[-3000:])
            assert "nothing" in page.lower() or "not imported" in page or "not used" in page
            assert table_counts(db) == before, where
            assert _files(instance) == files_before, where
            _collect_spooled_uploads()


def test_each_is_refused_on_the_command_line(  # type: ignore[no-untyped-def]
    small_limits, app, db, people, instance, tmp_path
) -> None:
    review, _cases = make_review(db, people)
    at = ["--instance", str(instance)]
    for hostile in CORPUS:
        path = _make(hostile, tmp_path)
        commands = {
            "bundle": [["import", str(path), *at]],
            "rubric": [["rubric", "check", str(path)]],
            "caselist": [
                ["cases", "import", review.id, str(path), *at],
                ["cases", "sample", review.id, str(path), "--size", "1", *at],
            ],
        }[hostile.kind]
        for command in commands:
            before = table_counts(db)
            result = CliRunner().invoke(main, command)
            where = (hostile.name, command[:2])
            assert result.exit_code == 1, (*where, result.output)
            assert hostile.refusal in result.output, (*where, result.output)
            assert table_counts(db) == before, where


def test_a_file_over_the_upload_limit_gets_a_page_naming_it(app, world, client, db) -> None:  # type: ignore[no-untyped-def]
    app.config["MAX_CONTENT_LENGTH"] = 100_000
    before = table_counts(db)
    route = f"/reviews/{world.id}/cases/import"
    response = client.post(
        route,
        data={
            "csrf_token": csrf_token(client.get(route).text),
            "case_file": (io.BytesIO(b"reference,case_type\n" + b"\n" * 200_000), "big.csv"),
        },
        content_type="multipart/form-data",
    )
    response.close()
    assert response.status_code == 413
    assert "Files must be smaller than" in response.get_data(as_text=True)
    assert table_counts(db) == before


def test_a_large_valid_case_list_still_imports(world, client, db) -> None:  # type: ignore[no-untyped-def]
    """The limits leave room for real lists: 5,000 cases import in one go."""
    rows = "".join(f"BIG-{n:05d},cp,Team {n % 7},2026-03-02\n" for n in range(5_000))
    route = f"/reviews/{world.id}/cases/import"
    response = client.post(
        route,
        data={
            "csrf_token": csrf_token(client.get(route).text),
            "case_file": (
                io.BytesIO(f"reference,case_type,team,referral_date\n{rows}".encode()),
                "cases.csv",
            ),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    count = db.execute("SELECT count(*) FROM case_file WHERE review_id = ?", [world.id])
    assert count.fetchone()[0] == 5_003


def test_every_limit_is_documented_with_its_value() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "security.md").read_text()
    for limit in limits.LIMITS:
        assert f"`{limit.name}`" in text, limit.name
        assert limit.shown() in text, (limit.name, limit.shown())
