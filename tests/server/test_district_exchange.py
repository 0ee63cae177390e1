"""District office over schools on separate servers: a school exports its anonymised figures
signed with its archive key; the district's server checks the signature and shows them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.auth.service import create_account
from server.cli import main
from server.config import ServerConfig
from server.storage.db import connect, create_schema
from shared.model import Role
from tests.factories import PASSWORD
from tests.server.web.conftest import log_in
from tests.two_schools import DISTRICT, two_schools_copy

BASE_URL = "http://testserver.local"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """School B's figures exported from the three-school database: (file, public key)."""
    folder = tmp_path_factory.mktemp("district-export")
    config = two_schools_copy(tmp_path_factory.mktemp("two-schools-x"), folder / "school.sqlite")
    key = folder / "archive-key.pem"
    assert main(["--db", str(config.database), "archive-key", "init", "--key", str(key)]) == 0
    out = folder / "vtoraya.json"
    argv = ["--db", str(config.database), "district-export", "--school", "sch-b"]
    assert main([*argv, "--out", str(out), "--key", str(key)]) == 0
    return out, folder / "archive-key.pem.pub"


@pytest.fixture
def district_db(tmp_path: Path) -> Path:
    """The district's own server: no school of its own yet."""
    path = tmp_path / "district.sqlite"
    conn = connect(path)
    create_schema(conn)
    conn.close()
    return path


def run(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def imports(path: Path) -> int:
    conn = connect(path)
    try:
        return conn.execute("SELECT count(*) FROM district_imports").fetchone()[0]
    finally:
        conn.close()


def test_the_file_carries_figures_and_no_names(exported) -> None:
    out, _ = exported
    payload = json.loads(json.loads(out.read_text())["payload"])
    assert payload["school_name"] == "МБОУ «Вторая СОШ»" and payload["district"] == DISTRICT
    assert payload["grades"] == [
        {
            "grade": 5,
            "pupils": 3,
            "marks": {"2": 1, "3": 2, "4": 1, "5": 1},
            "missed": 1,
            # no period marks yet: every pupil is «без отметок» for the results by pupils
            "categories": {"без отметок": 3},
            "exempt": 0,
        }
    ]
    text = out.read_text()
    assert "Белов" not in text and "b-s-1" not in text


def test_the_district_server_shows_the_imported_school(exported, district_db, capsys) -> None:
    out, public = exported
    code, printed, err = run(capsys, "--db", district_db, "district-import", out, "--trust", public)
    assert (code, err) == (0, ""), err
    assert "МБОУ «Вторая СОШ»" in printed
    conn = connect(district_db)
    create_account(conn, login="okrug", password=PASSWORD, role=Role.DISTRICT, person_id=DISTRICT)
    conn.close()
    with TestClient(create_app(ServerConfig(database=district_db)), base_url=BASE_URL) as client:
        assert log_in(client, "okrug").status_code == 303
        page = client.get("/district").text
        assert "МБОУ «Вторая СОШ» (из файла)" in page and "из подписанного файла" in page
        csv_text = client.get("/district?format=csv").content.decode("utf-8-sig")
    rows = [line.split(";") for line in csv_text.strip().splitlines()[1:]]
    assert rows[0] == [
        "МБОУ «Вторая СОШ» (из файла)",
        "все",
        "3",
        "5",
        "3,40",
        "40,00",
        "80,00",
        "1",
        *["0"] * 6,  # отличники … освобождены: no period marks in this school yet
        "",
        "",
    ]


@pytest.fixture
def tampered(exported, tmp_path: Path) -> Path:
    out, _ = exported
    signed = json.loads(out.read_text())
    signed["payload"] = signed["payload"].replace('"pupils":3', '"pupils":30')
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(signed))
    return path


def test_a_changed_file_is_refused_and_nothing_is_kept(
    exported, tampered, district_db, capsys
) -> None:
    _, public = exported
    code, out, err = run(
        capsys, "--db", district_db, "district-import", tampered, "--trust", public
    )
    assert (code, out) == (2, "")
    assert "Подпись не сходится" in err
    assert imports(district_db) == 0


def test_a_file_signed_by_another_key_is_refused(exported, district_db, tmp_path, capsys) -> None:
    out, _ = exported
    other = tmp_path / "other.pem"
    assert main(["--db", str(district_db), "archive-key", "init", "--key", str(other)]) == 0
    capsys.readouterr()
    code, _, err = run(
        capsys, "--db", district_db, "district-import", out, "--trust", f"{other}.pub"
    )
    assert code == 2 and "подписан другим ключом" in err
    assert imports(district_db) == 0


def test_a_school_kept_on_this_server_is_not_imported_over(exported, tmp_path, capsys) -> None:
    out, public = exported
    db = tmp_path / "same.sqlite"
    two_schools_copy(tmp_path / "tpl", db)
    code, _, err = run(capsys, "--db", db, "district-import", out, "--trust", public)
    assert code == 2 and "ведётся на этом сервере" in err
    assert imports(db) == 0


@pytest.fixture
def other_district(district_db: Path, exported) -> Iterator[TestClient]:
    out, public = exported
    assert (
        main(["--db", str(district_db), "district-import", str(out), "--trust", str(public)]) == 0
    )
    conn = connect(district_db)
    create_account(conn, login="okrug", password=PASSWORD, role=Role.DISTRICT, person_id=DISTRICT)
    # an account of another district can only be made where that district has a school
    conn.execute("UPDATE district_imports SET district = 'Другой район'")
    create_account(
        conn, login="other", password=PASSWORD, role=Role.DISTRICT, person_id="Другой район"
    )
    conn.execute("UPDATE district_imports SET district = ?", (DISTRICT,))
    conn.close()
    with TestClient(create_app(ServerConfig(database=district_db)), base_url=BASE_URL) as client:
        yield client


def test_a_district_account_of_another_district_does_not_see_it(other_district) -> None:
    assert log_in(other_district, "other").status_code == 303
    assert "Вторая СОШ" not in other_district.get("/district").text
