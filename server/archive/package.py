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

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import bagit
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.archive import keys, parts, pdf_cache, portfolio_files, printed
from server.archive.closing import CLOSERS, actor, actor_school
from server.archive.parts import write_file
from server.archive.verify import (
    CHAINED,
    KIND,
    NO_PREVIOUS,
    PERIOD,
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
from server.printing.pool import POOL_FROM, run_all
from server.storage import archive as archive_storage
from server.storage import directory as directory_storage
from server.storage.db import transaction
from shared import groups
from shared.model import Directory, JournalInfo, parse_journal_id

FORMAT = "zhurnal-archive/2"
Progress = Callable[[int, int], None]
# replace a worker after this many tasks (None: never). Measured at 1,064 pupils (BENCHMARKS.md):
# replaced every 250 tasks a worker still peaked at 378 MB (Typst reaches it within a few dozen
# large journals and keeps it: the caches of its last ten compilations, and memory the
# allocator does not give back) while the build took more CPU, so workers live for the build
MAX_TASKS_PER_WORKER: int | None = None


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

    def put(self, path: str, data: bytes, title: str, *, printed_at: str | None = None) -> None:
        self.files.append(write_file(self.root, path, data, title, printed_at=printed_at))

    @property
    def payload_bytes(self) -> int:
        return sum(f["bytes"] for f in self.files)


def people_json(directory: Directory, authors: set[str]) -> bytes:
    """Who wrote the events: id -> full name, once for the package (an id that is no one on
    the staff is the server's own entries)."""
    names = {s.id: s.full_name for s in directory.staff}
    people = {author: names.get(author, "сервер") for author in sorted(authors)}
    return msgspec.json.format(
        msgspec.json.encode({"format": "zhurnal-people/1", "people": people}), indent=1
    )


def _readme(directory: Directory, kind: str, fingerprint: str, journal: JournalInfo | None) -> str:
    what = (
        f"журнал «{groups.section_title(directory, journal)}», "
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
  journals/<класс>/<предмет>/document.yjs.gz  документ журнала (CRDT Yjs, обновление v1),
                                           сжатый gzip (RFC 1952): gunzip, zcat, 7-Zip
  summary/<класс>/summary.pdf|.xlsx|.csv   сводная ведомость учёта успеваемости
  personal/<ученик>/year-marks.pdf|.csv    отметки за год для личного дела
  portfolio/<ученик>/portfolio.json|.pdf   портфолио достижений за год (записи и печатный вид)
  portfolio/<ученик>/documents/<SHA-256>.* сканы грамот и дипломов, имя файла — его SHA-256
  people.json      авторы записей: код (поле author в events.json) и фамилия, имя, отчество
  directory.json   справочник школы на дату закрытия года (классы, ученики, учителя)
  closure.json     закрытие года и журнал исправлений после закрытия
  contents.json    опись: размер, SHA-256 и категория хранения каждого файла

Целостность. manifest-sha256.txt содержит SHA-256 каждого файла, tagmanifest-sha256.txt —
SHA-256 служебных файлов; файл tagmanifest-sha256.txt.sig — подпись Ed25519 ключом архива
школы (отпечаток {fingerprint}). Хеш SHA-256 файла tagmanifest-sha256.txt — хеш всего
пакета; следующий год ссылается на него в bag-info.txt, так годы образуют цепочку.

Все PDF пакета — PDF/A-2b (ГОСТ Р ИСО 19005-2): шрифты встроены, документ не зависит от
программы просмотра. Проверить соответствие можно программой veraPDF (verapdf.org):
verapdf --flavour 2b journal.pdf

В events.json у каждой записи: event — запись как она сделана (автор — код из people.json,
hlc начинается со времени ввода в миллисекундах), entered_at — время ввода, received_at —
время получения сервером, status — состояние записи (если поля нет — действующая, current),
refused_because — причина отказа, если запись отклонена правилами.

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
            if info.get(KIND) in CHAINED and info.get(SEQUENCE, "").isdigit():
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


_BUILDING = threading.Lock()


@contextlib.contextmanager
def _one_build_at_a_time(out_dir: Path) -> Iterator[None]:
    """Builds into one archive folder go one after another, across threads (bagit.make_bag
    changes the process's working directory) and across server processes (a chained package
    takes the chain's head when it starts: two at once would both be number N)."""
    with _BUILDING:
        folder = os.open(out_dir, os.O_RDONLY)  # the folder itself is the lock: no file in it
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            yield
        finally:
            os.close(folder)  # closing releases the lock


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
    workers: int | None = None,
    period: str | None = None,
    scheduled_for: str | None = None,
) -> PackageResult:
    """Archive a closed year (default) or, with `journal_id`, one journal on demand; with
    `period` (a period id, or `mYYYY-MM` for a month) the year's journals as they stand at
    the end of that period, next in the chain. `scheduled_for` (a school id) is the server's
    own scheduled build (server/archive/schedule.py): no person's rights to check."""
    if scheduled_for is None:
        actor(conn, login, CLOSERS, "архив формирует документовед или администрация")
    school_id = scheduled_for or actor_school(conn, login)
    if journal_id:
        try:
            year_id = parse_journal_id(journal_id)[0]
        except ValueError as exc:
            raise NotFound(f"Журнал «{journal_id}» не найден.") from exc
    try:
        directory = directory_storage.load_full(conn, year_id, school_id=school_id)
    except LookupError:
        raise NotFound(f"Учебный год «{year_id or ''}» не найден в вашей школе.") from None
    if journal_id:
        journals = [j for j in directory.journals if j.id == journal_id]
        if not journals:
            raise NotFound(f"Журнал «{journal_id}» не найден.")
        kind = "journal"
    elif period:
        journals = list(directory.journals)
        kind = PERIOD
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
        section = journal.subject_id + (f"-g{journal.group}" if journal.group else "")
        base = f"{school.id}-{journal.class_id}-{section}-{when:%Y%m%d}"
    elif period:
        base = f"{school.id}-{directory.year.id}-{period}"
    else:
        base = f"{school.id}-{directory.year.id}"
    out_dir.mkdir(parents=True, exist_ok=True)
    with _one_build_at_a_time(out_dir):
        name, revision = _unique_name(out_dir, base)
        sequence, previous_name, previous_sha = (
            chain_head(out_dir) if kind in CHAINED else (None, NO_PREVIOUS, NO_PREVIOUS)
        )
        staging = out_dir / f".{name}.partial"
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir()
        try:
            files, payload = _write_payload(
                conn, staging, directory, journals, kind, key, when, progress, workers
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
            if period:
                info["Zhurnal-Period"] = period
            if sequence is not None:
                info[SEQUENCE] = str(sequence)
            bagit.make_bag(str(staging), bag_info=info, checksums=["sha256"])
            signed = (staging / TAGMANIFEST).read_bytes()
            (staging / SIGNATURE).write_text(
                keys.sign_file(key, TAGMANIFEST, signed), encoding="utf-8"
            )
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
    workers: int | None = None,
) -> tuple[int, int]:
    """Every payload file. Each journal is read, folded and written by a worker process
    (server/archive/parts.py), once; its PDF comes from the cache when unchanged
    (server/archive/pdf_cache.py). The summaries and the pupils' pages are printed there too."""
    out = _Writer(root)  # bagit.make_bag moves everything here into data/
    class_ids = sorted({j.class_id for j in journals}, key=lambda c: (len(c), c))
    pupils = printed.pupils_of_year(directory) if kind == "year" else []
    portfolios = portfolio_files.pupils_with_portfolio(conn, directory) if pupils else 0
    names = {s.id: s.full_name for s in directory.students}
    total = len(journals) + len(class_ids) + len(pupils) + portfolios + 1
    done = 0
    corrections = archive_storage.correction_log(conn, directory.year.id)
    authors: set[str] = set()
    context = parts.Context(
        database=parts.database_of(conn),
        root=str(root),
        directory=directory,
        when=when,
        kind=kind,
        corrections=corrections,
        directory_digest=pdf_cache.directory_digest(directory),
        only=journals[0].subject_id if kind == "journal" else None,
    )

    def tick() -> None:
        nonlocal done
        done += 1
        progress(done, total)

    def tasks() -> Iterator[tuple[int, parts.Task]]:
        n = 0
        for journal in journals:
            n += 1
            yield n, parts.JournalTask(journal)
        for class_id in class_ids:
            n += 1
            yield n, parts.SummaryTask(class_id)
        marks = printed.personal_marks(conn, directory) if pupils else {}
        for pupil in pupils:
            n += 1
            yield n, parts.PersonalTask(pupil, marks.get(pupil.id, []))
        if kind != "year":
            return
        for pupil_id, files, job in portfolio_files.portfolio_parts(conn, directory, when):
            what = f"Портфолио достижений: {names[pupil_id]}"
            for file_name, content in files.items():
                out.put(f"portfolio/{pupil_id}/{file_name}", content, what)
            n += 1
            yield n, parts.PdfTask(f"portfolio/{pupil_id}/portfolio.pdf", what, job)

    expected = len(journals) + len(class_ids) + len(pupils) + portfolios
    spawn = False
    if not context.database:
        workers = 1  # a database in memory: no worker process could open it
    elif workers is None and expected >= POOL_FROM:
        # with (almost) every journal kept from the last build or the printing ahead, what is
        # left is small PDFs: one Typst worker prints them well within the minute, and the
        # build's memory is that of one worker, not two (BENCHMARKS.md, "Year-end archive")
        changed = pdf_cache.journals_to_read(conn, journals, context.directory_digest, corrections)
        if changed < POOL_FROM:
            workers, spawn = 1, True
    results = run_all(
        parts.run_in_worker,
        tasks(),
        workers=workers,
        expected=expected,
        initializer=parts.start_worker,
        initargs=(context,),
        local=lambda task: parts.run(context, conn, task),
        max_tasks_per_child=MAX_TASKS_PER_WORKER,
        spawn=spawn,
    )
    for _, result in results:
        out.files.extend(result.entries)
        authors.update(result.authors)
        pdf_cache.keep(conn, result, when)
        tick()
    out.put("people.json", people_json(directory, authors), "Авторы записей: кто есть кто")
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
    files = sorted(out.files, key=lambda f: f["path"])
    listing = {"format": FORMAT, "files": files}
    (root / "contents.json").write_bytes(json.dumps(listing, ensure_ascii=False, indent=1).encode())
    tick()
    return len(out.files) + 1, out.payload_bytes
