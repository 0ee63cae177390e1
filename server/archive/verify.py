"""Checking archive packages offline: the bag, every checksum, the signature, the chain.

Needs no server and no database: only the folder of packages and the school's public key.
Imports nothing of the server but the key helpers, so `journal-archive verify` runs on any
machine with Python, bagit and cryptography. Every finding is a Russian sentence that names
the package and the file.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import bagit
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from server.archive import keys

MANIFEST = "manifest-sha256.txt"
TAGMANIFEST = "tagmanifest-sha256.txt"
SIGNATURE = "tagmanifest-sha256.txt.sig"
TAG_FILES = ("bagit.txt", "bag-info.txt", MANIFEST, TAGMANIFEST)
CONTENTS = "data/contents.json"
ACTS_FOLDER = "destruction-acts"

KIND = "Zhurnal-Package-Kind"
SEQUENCE = "Zhurnal-Chain-Sequence"
PREVIOUS = "Zhurnal-Previous-Package"
PREVIOUS_SHA = "Zhurnal-Previous-Sha256"
NO_PREVIOUS = "none"
PERIOD = "period"  # a quarter's, half-year's or month's package, built by the server itself
CHAINED = ("year", PERIOD)  # the kinds numbered in the chain of a school's archive folder


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_hash(bag_path: Path) -> str:
    """A package's identity in the chain: SHA-256 of its tag manifest, which covers bag-info
    (with the previous package's hash) and the payload manifest (with every file's hash)."""
    return sha256_file(bag_path / TAGMANIFEST)


def is_bag(path: Path) -> bool:
    return path.is_dir() and (path / "bagit.txt").is_file()


def read_info(bag_path: Path) -> dict[str, str]:
    """bag-info.txt as a dict (first value of repeated keys); {} when unreadable.

    Only the two tag files are read: opening the bag (bagit.Bag) loads and checks the path of
    every file in its manifests, about a second for a large school's year, and the chain's head
    is looked for among all the packages of the folder at every build."""
    try:
        declared = bagit._load_tag_file(str(bag_path / "bagit.txt"))
        encoding = declared.get("Tag-File-Character-Encoding", "UTF-8")
        info = bagit._load_tag_file(str(bag_path / "bag-info.txt"), encoding)
    except (bagit.BagError, OSError, UnicodeError, LookupError):
        return {}
    return {k: v[0] if isinstance(v, list) else v for k, v in info.items()}


@dataclass
class PackageReport:
    name: str
    kind: str = ""
    year_name: str = ""
    sequence: int | None = None
    previous: str = NO_PREVIOUS
    sha256: str = ""
    key_fingerprint: str = ""
    files_checked: int = 0
    problems: list[str] = field(default_factory=list)
    destroyed: list[str] = field(default_factory=list)  # files removed by a recorded act

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class FolderReport:
    packages: list[PackageReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # chain and destruction-act findings

    @property
    def ok(self) -> bool:
        return not self.problems and all(p.ok for p in self.packages)


# ----------------------------------------------------------------- one package


def _check_signature(
    bag_path: Path, public_keys: list[Ed25519PublicKey], report: PackageReport
) -> None:
    sig_path = bag_path / SIGNATURE
    if not sig_path.is_file():
        report.problems.append(f"нет файла подписи {SIGNATURE}: пакет не подписан или неполон")
        return
    try:
        fields = keys.read_signature(sig_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeError):
        report.problems.append(f"файл подписи {SIGNATURE} повреждён")
        return
    report.key_fingerprint = fields["Отпечаток ключа"]
    if not (bag_path / TAGMANIFEST).is_file():
        return  # reported with the tag files
    content = (bag_path / TAGMANIFEST).read_bytes()
    ours = {keys.fingerprint(k): k for k in public_keys}
    key = ours.get(report.key_fingerprint)
    if key is None:
        expected = ", ".join(ours) or "—"
        # a re-signature names its own key; check it is not ours under a false name
        if any(keys.verify_signature(k, fields["Подпись"], content) for k in public_keys):
            report.problems.append("в файле подписи указан неверный отпечаток ключа")
        else:
            report.problems.append(
                f"пакет подписан чужим ключом (отпечаток {report.key_fingerprint}), "
                f"а не ключом архива школы (отпечаток {expected})"
            )
        return
    if not keys.verify_signature(key, fields["Подпись"], content):
        report.problems.append(
            f"подпись не сходится: {TAGMANIFEST} изменён после подписания или подпись подделана"
        )


def _contents_sizes(bag_path: Path) -> dict[str, int]:
    try:
        listing = json.loads((bag_path / CONTENTS).read_text(encoding="utf-8"))
        return {f"data/{item['path']}": int(item["bytes"]) for item in listing["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def verify_package(
    bag_path: Path,
    public_keys: list[Ed25519PublicKey],
    destroyed: dict[str, tuple[str, str]] | None = None,
) -> PackageReport:
    """Check one bag. `destroyed`: data path -> (its SHA-256, act number) removed by a
    recorded destruction act; such a file may be missing, and only such a file."""
    destroyed = destroyed or {}
    report = PackageReport(name=bag_path.name)
    missing_tags = [name for name in TAG_FILES if not (bag_path / name).is_file()]
    for name in missing_tags:
        report.problems.append(f"нет служебного файла {name}: пакет неполон (усечён)")
    if not (bag_path / "data").is_dir():
        report.problems.append("нет папки data: пакет неполон (усечён)")
    _check_signature(bag_path, public_keys, report)
    if "bagit.txt" in missing_tags:
        return report
    try:
        bag = bagit.Bag(str(bag_path))
    except (bagit.BagError, OSError, UnicodeError) as exc:
        report.problems.append(f"пакет не читается как BagIt: {exc}")
        return report
    info = {k: v[0] if isinstance(v, list) else v for k, v in bag.info.items()}
    report.kind = info.get(KIND, "")
    report.year_name = info.get("Zhurnal-Year-Name", "")
    report.previous = info.get(PREVIOUS_SHA, NO_PREVIOUS)
    if info.get(SEQUENCE, "").isdigit():
        report.sequence = int(info[SEQUENCE])
    if (bag_path / TAGMANIFEST).is_file():
        report.sha256 = package_hash(bag_path)
    if "sha256" not in bag.algorithms:
        report.problems.append("в пакете нет описи SHA-256")
        return report

    sizes = _contents_sizes(bag_path)
    listed = set()
    for rel, hashes in sorted(bag.entries.items()):
        rel = rel.replace(os.sep, "/")
        listed.add(rel)
        expected = hashes.get("sha256", "").lower()
        path = bag_path / rel
        if not path.is_file():
            if rel.startswith("data/") and destroyed.get(rel, ("",))[0] == expected:
                report.destroyed.append(f"{rel} (акт № {destroyed[rel][1]})")
            elif rel in TAG_FILES:
                pass  # already reported
            else:
                report.problems.append(f"файл удалён: {rel} (есть в описи пакета, нет на диске)")
            continue
        report.files_checked += 1
        found = sha256_file(path)
        if found == expected:
            continue
        size, was = path.stat().st_size, sizes.get(rel)
        if was is not None and size < was:
            report.problems.append(f"файл усечён: {rel} — {size} байт вместо {was}")
        else:
            report.problems.append(f"файл изменён: {rel} (контрольная сумма SHA-256 не совпадает)")
    for rel in sorted(set(destroyed) - listed):
        report.problems.append(f"акт уничтожения называет файл {rel}, которого нет в описи пакета")

    allowed = {*TAG_FILES, SIGNATURE}
    for root, _, files in os.walk(bag_path):
        for name in files:
            rel = (Path(root) / name).relative_to(bag_path).as_posix()
            if rel not in listed and rel not in allowed:
                report.problems.append(f"лишний файл: {rel} (его нет в описи пакета)")
    for name in ("bag-info.txt", MANIFEST):
        if (
            (bag_path / TAGMANIFEST).is_file()
            and (bag_path / name).is_file()
            and name not in listed
        ):
            report.problems.append(f"служебный файл {name} не защищён описью {TAGMANIFEST}")

    if report.ok and not report.destroyed:
        try:  # the reference implementation's own checks (Payload-Oxum, bagit.txt format…)
            bag.validate()
        except bagit.BagError as exc:
            report.problems.append(f"проверка BagIt не пройдена: {exc}")
    return report


# ----------------------------------------------------------------- destruction acts


def load_acts(
    folder: Path, public_keys: list[Ed25519PublicKey], problems: list[str]
) -> dict[str, dict[str, tuple[str, str]]]:
    """Signed destruction records: package name -> {data path: (sha256, act number)}."""
    result: dict[str, dict[str, tuple[str, str]]] = {}
    acts = folder / ACTS_FOLDER
    if not acts.is_dir():
        return result
    for record in sorted(acts.glob("*.json")):
        sig = record.with_name(record.name + ".sig")
        content = record.read_bytes()
        try:
            fields = keys.read_signature(sig.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeError):
            problems.append(f"запись акта уничтожения {record.name} не подписана")
            continue
        if not any(keys.verify_signature(k, fields["Подпись"], content) for k in public_keys):
            problems.append(
                f"подпись записи акта уничтожения {record.name} не сходится: запись изменена "
                "или подписана чужим ключом"
            )
            continue
        try:
            act = json.loads(content)
            for package, files in act["packages"].items():
                for rel, digest in files.items():
                    result.setdefault(package, {})[rel] = (digest, str(act["number"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            problems.append(f"запись акта уничтожения {record.name} повреждена")
    return result


# ----------------------------------------------------------------- a folder of years


def verify_folder(folder: Path, public_keys: list[Ed25519PublicKey]) -> FolderReport:
    """Every package in `folder` (a bag, or a folder of bags), and the chain of years."""
    report = FolderReport()
    if is_bag(folder):
        bags, acts_home = [folder], folder.parent
    else:
        bags = sorted(p for p in folder.iterdir() if is_bag(p) and not p.name.startswith("."))
        acts_home = folder
        for partial in sorted(folder.glob(".*.partial")):
            report.problems.append(
                f"незавершённый пакет {partial.name}: сборка была прервана; удалите папку и "
                "сформируйте пакет заново"
            )
        strays = [
            p.name
            for p in folder.iterdir()
            if p.is_dir() and not is_bag(p) and p.name != ACTS_FOLDER and not p.name.startswith(".")
        ]
        for name in strays:
            report.problems.append(f"папка {name} не является пакетом BagIt (нет bagit.txt)")
    if not bags:
        report.problems.append(f"в папке {folder} нет ни одного архивного пакета")
        return report
    destroyed = load_acts(acts_home, public_keys, report.problems)
    for bag in bags:
        report.packages.append(verify_package(bag, public_keys, destroyed.get(bag.name)))
    if not is_bag(folder):
        _check_chain(report)
    return report


def _check_chain(report: FolderReport) -> None:
    chain = [p for p in report.packages if p.kind in CHAINED]
    by_number: dict[int, PackageReport] = {}
    for package in chain:
        if package.sequence is None:
            report.problems.append(f"{package.name}: в пакете года нет номера в цепочке")
            continue
        if package.sequence in by_number:
            report.problems.append(
                f"два пакета с номером {package.sequence} в цепочке: "
                f"{by_number[package.sequence].name} и {package.name}"
            )
            continue
        by_number[package.sequence] = package
    for number, package in sorted(by_number.items()):
        if number == 1:
            if package.previous != NO_PREVIOUS:
                report.problems.append(f"{package.name}: первый пакет цепочки ссылается на другой")
            continue
        before = by_number.get(number - 1)
        if before is None:
            report.problems.append(
                f"нет пакета № {number - 1} цепочки, на который ссылается {package.name}: "
                "год удалён из архива или лежит в другой папке"
            )
        elif before.sha256 != package.previous:
            report.problems.append(
                f"пакет {before.name} (№ {number - 1}) заменён: {package.name} ссылается на "
                f"пакет с SHA-256 {package.previous[:16]}…, а в папке лежит пакет с SHA-256 "
                f"{before.sha256[:16]}…"
            )


def describe(report: FolderReport) -> list[str]:
    """The report as lines for a person."""
    lines = []
    for p in report.packages:
        where = f" (№ {p.sequence} в цепочке)" if p.sequence else ""
        title = f"{p.name}{where}"
        if p.ok:
            lines.append(f"✓ {title}: подпись верна, файлов сверено: {p.files_checked}")
        else:
            lines.append(f"✗ {title}:")
            lines += [f"    — {problem}" for problem in p.problems]
        lines += [f"    · уничтожен по акту: {d}" for d in p.destroyed]
    lines += [f"✗ {problem}" for problem in report.problems]
    if report.ok:
        lines.append(f"Архив цел: пакетов проверено {len(report.packages)}.")
    else:
        count = len(report.problems) + sum(len(p.problems) for p in report.packages)
        lines.append(f"АРХИВ НЕ ЦЕЛ: найдено нарушений: {count}.")
    return lines
