"""Building the archive package of a closed school year (or of one journal) as a BagIt bag.

    <archive folder>/<school>-<year>/            a bag (RFC 8493)
        bagit.txt, bag-info.txt                  who, which year, the previous package's hash
        manifest-sha256.txt                      SHA-256 of every file under data/
        tagmanifest-sha256.txt                   SHA-256 of the files above: the package's hash
        tagmanifest-sha256.txt.sig               Ed25519 signature of it by the school's key
        data/README.txt                          what is here and how to check it, in Russian
        data/contents.json                       every file: size, SHA-256, retention category
        data/directory.json, data/closure.json   the directory at closing; corrections log
        data/journals/<class>/<subject>/         journal.pdf, events.json, document.yjs
        data/summary/<class>/                    summary.pdf, summary.xlsx, summary.csv
        data/personal/<pupil>/                   year-marks.pdf, year-marks.csv

Year packages form a chain: each names the hash of the one made before it in the same folder
(`Zhurnal-Chain-Sequence`, `Zhurnal-Previous-Sha256`), so replacing or removing a year shows.
The bag is written under a hidden name and renamed when complete and signed: a crash leaves
no half package that could pass for a whole one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bagit
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.archive import keys, printed
from server.archive.closing import CLOSERS, actor, actor_school
from server.archive.verify import (
    KIND,
    NO_PREVIOUS,
    PREVIOUS,
    PREVIOUS_SHA,
    SEQUENCE,
    SIGNATURE,
    TAGMANIFEST,
    is_bag,
    package_hash,
    read_info,
)
from server.errors import BadRequest, NotFound
from server.storage import archive as archive_storage
from server.storage import directory as directory_storage
from server.storage import journals as journal_storage
from server.storage.db import transaction
from shared.fold import fold, order_key
from shared.hlc import parse_stamp
from shared.journal import JournalDoc
from shared.model import Directory, JournalInfo, parse_journal_id

FORMAT = "zhurnal-archive/1"
Progress = Callable[[int, int], None]

# retention categories of REQUIREMENTS.md, by the folder a file lies in
JOURNALS, SUMMARY, PERSONAL, PACKAGE = "journals", "summary_sheets", "personal_files", "package"


def category_of(path: str) -> str:
    top = path.split("/", 1)[0]
    return {"journals": JOURNALS, "summary": SUMMARY, "personal": PERSONAL}.get(top, PACKAGE)


@dataclass
class PackageResult:
    path: Path
    name: str
    sha256: str
    sequence: int | None
    previous: str
    files: int
    payload_bytes: int


class _Writer:
    """Writes payload files into the staging folder and keeps the contents listing."""

    def __init__(self, root: Path):
        self.root = root
        self.files: list[dict] = []

    def put(self, path: str, data: bytes, title: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.files.append(
            {
                "path": path,
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "category": category_of(path),
                "title": title,
            }
        )

    @property
    def payload_bytes(self) -> int:
        return sum(f["bytes"] for f in self.files)


def _iso_ms(ms: float) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds")


def events_json(
    directory: Directory, journal: JournalInfo, doc: JournalDoc, received: dict[str, dict]
) -> bytes:
    """The journal's whole history: every event with its author, device, times and status.

    One event a line, oldest first (HLC order): readable by eye and by any JSON parser."""
    events = doc.events()
    raw = doc.raw_events()
    state = fold(events)
    names = {s.id: s.full_name for s in directory.staff}
    lines = []
    for event in sorted(events.values(), key=order_key):
        row = received.get(event.id, {})
        refusal = state.refusals.get(event.id)
        lines.append(
            json.dumps(
                {
                    "event": json.loads(raw[event.id]),  # as written: id, author, hlc, fields…
                    "author_name": names.get(event.author, "сервер"),
                    "entered_at": _iso_ms(parse_stamp(event.hlc)[0]),
                    "received_at": _iso_ms(row["received_at"] * 1000) if row else None,
                    "status": journal_storage.event_status(event.id, state),
                    "refused_because": refusal.reason if refusal else None,
                },
                ensure_ascii=False,
                sort_keys=True,
            )
        )
    head = json.dumps(
        {
            "format": "zhurnal-events/1",
            "journal_id": journal.id,
            "class": printed.class_name(directory, journal.class_id),
            "subject": printed.subject_name(directory, journal.subject_id),
            "count": len(lines),
        },
        ensure_ascii=False,
    )
    return (head[:-1] + ', "events": [\n' + ",\n".join(lines) + "\n]}\n").encode()


def _readme(directory: Directory, kind: str, fingerprint: str, journal: JournalInfo | None) -> str:
    what = (
        f"журнал «{printed.subject_name(directory, journal.subject_id)}», "
        f"{printed.class_name(directory, journal.class_id)} класс"
        if journal
        else "все журналы, сводные ведомости и отметки для личных дел"
    )
    return f"""Архив электронного журнала
{directory.school.name}
{directory.year.name} учебный год: {what}.

Пакет в формате BagIt (RFC 8493). Состав:
  journals/<класс>/<предмет>/journal.pdf   классный журнал для печати, подписи и переплёта
  journals/<класс>/<предмет>/events.json   вся история записей: кто, когда, что, почему (JSON)
  journals/<класс>/<предмет>/document.yjs  документ журнала (CRDT Yjs, обновление v1)
  summary/<класс>/summary.pdf|.xlsx|.csv   сводная ведомость учёта успеваемости
  personal/<ученик>/year-marks.pdf|.csv    отметки за год для личного дела
  directory.json   справочник школы на дату закрытия года (классы, ученики, учителя)
  closure.json     закрытие года и журнал исправлений после закрытия
  contents.json    опись: размер, SHA-256 и категория хранения каждого файла

Целостность. manifest-sha256.txt содержит SHA-256 каждого файла, tagmanifest-sha256.txt —
SHA-256 служебных файлов; файл tagmanifest-sha256.txt.sig — подпись Ed25519 ключом архива
школы (отпечаток {fingerprint}). Хеш SHA-256 файла tagmanifest-sha256.txt — хеш всего
пакета; следующий год ссылается на него в bag-info.txt, так годы образуют цепочку.

Проверка одной командой, без сервера: journal-archive verify ПАПКА --key КЛЮЧ.pub.pem
Без программы журнала: sha256sum -c manifest-sha256.txt и проверка подписи Ed25519
(например, openssl pkeyutl -verify -pubin -inkey КЛЮЧ.pub.pem -rawin
-in tagmanifest-sha256.txt -sigfile ПОДПИСЬ.bin, где ПОДПИСЬ.bin — base64-декодированная
строка «Подпись» файла .sig).

Тип пакета: {kind}. Формат: {FORMAT}.
"""


def chain_head(out_dir: Path) -> tuple[int, str, str]:
    """(next sequence number, previous package name, its hash) for the year chain in out_dir."""
    best: tuple[int, Path] | None = None
    if out_dir.is_dir():
        for path in out_dir.iterdir():
            if path.name.startswith("."):
                continue  # a package still being written, or left by a crash
            info = read_info(path) if is_bag(path) else {}
            if info.get(KIND) == "year" and info.get(SEQUENCE, "").isdigit():
                number = int(info[SEQUENCE])
                if best is None or number > best[0]:
                    best = (number, path)
    if best is None:
        return 1, NO_PREVIOUS, NO_PREVIOUS
    return best[0] + 1, best[1].name, package_hash(best[1])


def _unique_name(out_dir: Path, base: str) -> tuple[str, int]:
    revision, name = 1, base
    while (out_dir / name).exists():
        revision += 1
        name = f"{base}-r{revision}"
    return name, revision


def build_package(
    conn: sqlite3.Connection,
    *,
    out_dir: Path,
    key: Ed25519PrivateKey,
    login: str,
    year_id: str | None = None,
    journal_id: str | None = None,
    now: dt.datetime | None = None,
    progress: Progress = lambda done, total: None,
) -> PackageResult:
    """Archive a closed year (default) or, with `journal_id`, one journal on demand."""
    actor(conn, login, CLOSERS, "архив формирует документовед или администрация")
    if journal_id:
        try:
            year_id = parse_journal_id(journal_id)[0]
        except ValueError as exc:
            raise NotFound(f"Журнал «{journal_id}» не найден.") from exc
    try:
        directory = directory_storage.load_full(conn, year_id, school_id=actor_school(conn, login))
    except LookupError:
        raise NotFound(f"Учебный год «{year_id or ''}» не найден в вашей школе.") from None
    if journal_id:
        journals = [j for j in directory.journals if j.id == journal_id]
        if not journals:
            raise NotFound(f"Журнал «{journal_id}» не найден.")
        kind = "journal"
    else:
        if directory.closure is None:
            raise BadRequest(
                f"Учебный год {directory.year.name} не закрыт: сначала закройте его "
                "(journal-server close-year), затем формируйте архив."
            )
        journals = list(directory.journals)
        kind = "year"
    when = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    school = directory.school
    if journal_id:
        journal = journals[0]
        base = f"{school.id}-{journal.class_id}-{journal.subject_id}-{when:%Y%m%d}"
    else:
        base = f"{school.id}-{directory.year.id}"
    out_dir.mkdir(parents=True, exist_ok=True)
    name, revision = _unique_name(out_dir, base)
    sequence, previous_name, previous_sha = (
        chain_head(out_dir) if kind == "year" else (None, NO_PREVIOUS, NO_PREVIOUS)
    )
    staging = out_dir / f".{name}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        files, payload = _write_payload(
            conn, staging, directory, journals, kind, key, when, progress
        )
        fingerprint = keys.fingerprint(key.public_key())
        info = {
            "Source-Organization": school.name,
            "External-Description": (
                f"Архив электронного журнала, {directory.year.name} учебный год"
                + (f", журнал {journal_id}" if journal_id else "")
            ),
            "Bagging-Date": when.date().isoformat(),
            "Zhurnal-Format": FORMAT,
            KIND: kind,
            "Zhurnal-School-Id": school.id,
            "Zhurnal-Year-Id": directory.year.id,
            "Zhurnal-Year-Name": directory.year.name,
            "Zhurnal-Year-Ends": directory.year.ends.isoformat(),
            "Zhurnal-Revision": str(revision),
            "Zhurnal-Printed-At": when.isoformat(),
            "Zhurnal-Key-Fingerprint": fingerprint,
            "Zhurnal-Built-By": login,
            PREVIOUS: previous_name,
            PREVIOUS_SHA: previous_sha,
        }
        if school.district:
            info["Organization-Address"] = school.district
        if directory.closure:
            info["Zhurnal-Closed-On"] = directory.closure.closed_on.isoformat()
        if journal_id:
            info["Zhurnal-Journal-Id"] = journal_id
        if sequence is not None:
            info[SEQUENCE] = str(sequence)
        bagit.make_bag(str(staging), bag_info=info, checksums=["sha256"])
        signed = (staging / TAGMANIFEST).read_bytes()
        (staging / SIGNATURE).write_text(keys.sign_file(key, TAGMANIFEST, signed), encoding="utf-8")
        final = out_dir / name
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    digest = package_hash(final)
    with transaction(conn):
        archive_storage.record_package(
            conn,
            name=name,
            kind=kind,
            year_id=directory.year.id,
            journal_id=journal_id,
            revision=revision,
            sha256=digest,
            previous_sha256=previous_sha,
            path=str(final.resolve()),
            key_fingerprint=fingerprint,
            created_at=time.time(),
            created_by=login,
        )
    return PackageResult(
        path=final,
        name=name,
        sha256=digest,
        sequence=sequence,
        previous=previous_sha,
        files=files,
        payload_bytes=payload,
    )


def _write_payload(
    conn: sqlite3.Connection,
    root: Path,
    directory: Directory,
    journals: list[JournalInfo],
    kind: str,
    key: Ed25519PrivateKey,
    when: dt.datetime,
    progress: Progress,
) -> tuple[int, int]:
    data = root  # bagit.make_bag moves everything here into data/
    out = _Writer(data)
    class_ids = sorted({j.class_id for j in journals}, key=lambda c: (len(c), c))
    pupils = printed.pupils_of_year(directory) if kind == "year" else []
    total = len(journals) + len(class_ids) + len(pupils) + 1
    done = 0
    corrections = archive_storage.correction_log(conn, directory.year.id)
    for journal in journals:
        state_bytes, _ = journal_storage.load_document(conn, journal.id)
        doc = JournalDoc(state_bytes or None)
        received = {
            r["id"]: dict(r)
            for r in conn.execute(
                "SELECT id, received_at FROM events WHERE journal_id = ?", (journal.id,)
            )
        }
        folder = f"journals/{journal.class_id}/{journal.subject_id}"
        title = (
            f"{printed.subject_name(directory, journal.subject_id)}, "
            f"{printed.class_name(directory, journal.class_id)} класс"
        )
        own = [c for c in corrections if c["journal_id"] == journal.id]
        out.put(
            f"{folder}/journal.pdf",
            printed.journal_pdf(directory, journal, fold(doc.events()), when, own),
            f"Классный журнал: {title}",
        )
        out.put(
            f"{folder}/events.json",
            events_json(directory, journal, doc, received),
            f"История записей: {title}",
        )
        out.put(f"{folder}/document.yjs", doc.snapshot(), f"Документ журнала (Yjs): {title}")
        done += 1
        progress(done, total)
    only = journals[0].subject_id if kind == "journal" else None
    for class_id in class_ids:
        _, files = printed.summary_files(conn, directory, class_id, when, only)
        for file_name, content in files.items():
            out.put(
                f"summary/{class_id}/{file_name}",
                content,
                f"Сводная ведомость: {printed.class_name(directory, class_id)} класс",
            )
        done += 1
        progress(done, total)
    marks = printed.personal_marks(conn, directory) if pupils else {}
    for pupil in pupils:
        for file_name, content in printed.personal_files(
            directory, pupil, marks.get(pupil.id, []), when
        ).items():
            out.put(
                f"personal/{pupil.id}/{file_name}",
                content,
                f"Отметки за год для личного дела: {pupil.full_name}",
            )
        done += 1
        progress(done, total)
    out.put(
        "directory.json",
        msgspec.json.format(msgspec.json.encode(directory), indent=1),
        "Справочник школы на дату закрытия года",
    )
    out.put(
        "closure.json",
        json.dumps(
            {
                "closure": msgspec.to_builtins(directory.closure),
                "corrections": corrections,
            },
            ensure_ascii=False,
            indent=1,
        ).encode(),
        "Закрытие года и исправления после закрытия",
    )
    fingerprint = keys.fingerprint(key.public_key())
    journal = journals[0] if kind == "journal" else None
    out.put(
        "README.txt",
        _readme(directory, kind, fingerprint, journal).encode(),
        "Описание пакета",
    )
    listing = {"format": FORMAT, "files": out.files}
    (data / "contents.json").write_bytes(json.dumps(listing, ensure_ascii=False, indent=1).encode())
    done += 1
    progress(done, total)
    return len(out.files) + 1, out.payload_bytes
