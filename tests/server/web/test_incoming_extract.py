"""An arriving pupil's transfer extract from another school goes into the personal file with
its source: shown apart from this school's marks, checked against the sending school's key,
refused for the wrong pupil or a changed file, and never added twice."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from server.archive import keys
from server.cli import main
from server.errors import BadRequest
from server.lists.incoming import import_extract
from server.storage.db import connect
from server.web.transfer import signed_file
from shared.transfer import (
    ExtractAttestation,
    ExtractMark,
    ExtractPupil,
    TransferExtract,
    encode_file,
)

PUPIL = ExtractPupil(id="x-77", last_name="Алексеев", first_name="Артём")  # s-1 of the fixture


def _extract(pupil: ExtractPupil = PUPIL) -> TransferExtract:
    return TransferExtract(
        school="МБОУ «Лесная СОШ»",
        school_id="lesnaya",
        year="2026/2027",
        year_id="lesnaya-2026-2027",
        pupil=pupil,
        class_name="5Б",
        date_from=dt.date(2026, 9, 1),
        date_to=dt.date(2026, 11, 13),
        issued=dt.date(2026, 11, 13),
        marks=(ExtractMark(subject="Математика", date=dt.date(2026, 10, 2), value=5),),
        attestation=(
            ExtractAttestation(
                subject="Математика", period="1 четверть", period_kind="quarter", value=4
            ),
        ),
    )


@pytest.fixture
def signed(tmp_path):
    key = tmp_path / "lesnaya.pem"
    keys.generate(key)
    public = tmp_path / "lesnaya.pem.pub"
    public.write_bytes(keys.public_pem(keys.load_private(key).public_key()))
    data, ok = signed_file(_extract(), key)
    assert ok
    return data, public


def _count(conn) -> int:
    return conn.execute("SELECT count(*) FROM incoming_marks").fetchone()[0]


def test_a_signed_extract_lands_in_the_personal_file_with_its_source(
    signed, web_config, browser_as
):
    data, public = signed
    conn = connect(web_config.database)
    own = conn.execute("SELECT * FROM personal_file ORDER BY 1, 2, 3, 4").fetchall()
    assert import_extract(conn, data, student_id="s-1", login="deputy", public_key=public) == 2
    assert import_extract(conn, data, student_id="s-1", login="deputy", public_key=public) == 0
    # this school's marks are untouched: the brought ones are kept apart
    assert conn.execute("SELECT * FROM personal_file ORDER BY 1, 2, 3, 4").fetchall() == own
    conn.close()
    page = browser_as("deputy").get("/personal-files/s-1").text
    assert 'id="incoming"' in page and "МБОУ «Лесная СОШ»" in page
    assert "1 четверть" in page and "проверена" in page


def test_a_changed_or_foreign_file_is_refused_and_nothing_is_kept(signed, web_config):
    data, public = signed
    conn = connect(web_config.database)
    forged = data.replace(b'"value":4', b'"value":5')
    assert forged != data
    with pytest.raises(BadRequest, match="Подпись выписки неверна"):
        import_extract(conn, forged, student_id="s-1", login="deputy", public_key=public)
    with pytest.raises(BadRequest, match="Выписка на ученика"):
        import_extract(conn, data, student_id="s-2", login="deputy", public_key=public)
    with pytest.raises(BadRequest, match="открытый ключ"):
        import_extract(conn, data, student_id="s-1", login="deputy")
    with pytest.raises(BadRequest, match="не файл выписки"):
        import_extract(conn, b"{}", student_id="s-1", login="deputy", unsigned_ok=True)
    assert _count(conn) == 0
    conn.close()


def test_command_line_takes_an_unsigned_extract_compared_with_paper(web_config, tmp_path, capsys):
    path = tmp_path / "extract.json"
    path.write_bytes(encode_file(_extract()))
    db = str(web_config.database)
    assert (
        main(["--db", db, "transfer-import", str(path), "--student", "s-1", "--by", "deputy"]) == 2
    )
    assert main(["--db", db, "transfer-import", str(path), "--student", "s-1", "--by", "deputy",
                 "--unsigned-ok"]) == 0  # fmt: skip
    assert "добавлено отметок из другой школы: 2" in capsys.readouterr().out


def test_a_brought_special_value_is_shown_in_words_not_as_zero(web_config, browser_as, tmp_path):
    """An extract's «н/а» and «зач» (value 0, issue 16) keep their meaning in the personal
    file, and a current «зач» is kept with it too, beside the 0 it is stored as."""
    extract = msgspec.structs.replace(
        _extract(),
        marks=(ExtractMark(subject="Музыка", date=dt.date(2026, 10, 2), value=0, special="pass"),),
        attestation=(
            ExtractAttestation(
                subject="Физика", period="1 четверть", period_kind="quarter", value=0, special="na"
            ),
            ExtractAttestation(
                subject="Музыка",
                period="1 четверть",
                period_kind="quarter",
                value=0,
                special="pass",
            ),
        ),
    )
    key = tmp_path / "lesnaya.pem"
    keys.generate(key)
    public = tmp_path / "lesnaya.pem.pub"
    public.write_bytes(keys.public_pem(keys.load_private(key).public_key()))
    data, _ = signed_file(extract, key)
    conn = connect(web_config.database)
    assert import_extract(conn, data, student_id="s-1", login="deputy", public_key=public) == 3
    kept = conn.execute("SELECT subject, kind, value, special FROM incoming_marks ORDER BY 1, 2")
    assert [tuple(r) for r in kept] == [
        ("Музыка", "attestation", 0, "pass"),
        ("Музыка", "current", 0, "pass"),
        ("Физика", "attestation", 0, "na"),
    ]
    conn.close()
    page = browser_as("deputy").get("/personal-files/s-1").text
    assert '<td class="num">н/а</td>' in page and '<td class="num">зач</td>' in page
    assert '<td class="num">0</td>' not in page
