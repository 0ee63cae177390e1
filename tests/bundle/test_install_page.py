"""/install: the teacher takes the app from the school's server, with no login and no internet.

The bundle folder here is a small one made by the test (the real one is built, slowly, in
test_bundle_offline.py); the page and the downloads read only its manifest and files.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.config import ServerConfig
from server.install.builder import BundleFile, Manifest
from tests.server.web.conftest import log_in

BASE_URL = "http://school.local:8000"
WINDOWS_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0"
LINUX_UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


def make_bundle(folder: Path) -> dict[str, bytes]:
    contents = {
        "zhurnal-0.2.0-windows-amd64.zip": b"PK windows bundle",
        "zhurnal-0.2.0-linux-x86_64.tar.gz": b"linux bundle",
        "zhurnal-journal_0.2.0_amd64.deb": b"!<arch> deb",
    }
    folder.mkdir(parents=True)
    files = []
    for (name, data), target in zip(
        contents.items(), ("windows-amd64", "linux-x86_64", "deb"), strict=True
    ):
        (folder / name).write_bytes(data)
        files.append(BundleFile(target, name, len(data), hashlib.sha256(data).hexdigest()))
    Manifest("0.2.0", ("3.11", "3.12", "3.13"), ("textual",), tuple(files)).save(folder)
    (folder.parent / "secret.txt").write_text("не для всех")
    return contents


@pytest.fixture
def bundle_config(server_config: ServerConfig, tmp_path: Path) -> ServerConfig:
    return msgspec.structs.replace(server_config, app_bundle_dir=tmp_path / "bundle" / "app")


@pytest.fixture
def site(bundle_config: ServerConfig):
    with TestClient(create_app(bundle_config), base_url=BASE_URL) as client:
        yield client


def steps(html: str) -> list[str]:
    ol = re.search(r'<ol class="steps">(.*?)</ol>', html, re.S).group(1)
    return re.findall(r"<li><strong>(.*?)</strong>", ol)


def test_page_without_a_bundle_says_what_the_administrator_does(site):
    response = site.get("/install")
    assert response.status_code == 200
    assert "ещё не подготовлена" in response.text
    assert "journal-server bundle-app" in response.text


def test_page_offers_the_visitors_system_first_in_three_russian_steps(site, bundle_config):
    make_bundle(bundle_config.app_bundle_folder)
    windows = site.get("/install", headers={"User-Agent": WINDOWS_UA}).text
    assert steps(windows) == [
        "Скачайте архив",
        "Распакуйте и запустите установку.",
        "Откройте «Журнал»",
    ]
    links = re.findall(r'href="/install/([^"]+)"', windows)
    assert links[0] == "zhurnal-0.2.0-windows-amd64.zip"
    assert set(links) == {
        "zhurnal-0.2.0-windows-amd64.zip",
        "zhurnal-0.2.0-linux-x86_64.tar.gz",
        "zhurnal-journal_0.2.0_amd64.deb",
    }
    assert "install.bat" in windows and BASE_URL in windows  # step 3: this server's address
    linux = site.get("/install", headers={"User-Agent": LINUX_UA}).text
    assert re.findall(r'href="/install/([^"]+)"', linux)[0] == "zhurnal-0.2.0-linux-x86_64.tar.gz"
    assert "sudo apt install ./zhurnal-journal_0.2.0_amd64.deb" in linux


def test_downloads_are_the_bundle_files_byte_for_byte(site, bundle_config):
    contents = make_bundle(bundle_config.app_bundle_folder)
    for name, data in contents.items():
        response = site.get(f"/install/{name}")
        assert response.status_code == 200
        assert response.content == data
        assert "attachment" in response.headers["content-disposition"]
        assert "content-encoding" not in response.headers  # a .tar.gz stays packed


@pytest.mark.parametrize(
    "name",
    [
        "manifest.json",
        "..%2Fsecret.txt",
        "%2E%2E%2Fsecret.txt",
        "..%5Csecret.txt",
        "zhurnal-0.1.0-windows-amd64.zip",
        "%00",
    ],
)
def test_forged_names_get_nothing_outside_the_manifest(site, bundle_config, name):
    make_bundle(bundle_config.app_bundle_folder)
    response = site.get(f"/install/{name}")
    assert response.status_code in (400, 404)
    assert "не для всех" not in response.text
    assert re.search("[А-Яа-я]", response.text)  # a Russian message, whichever layer refused


def test_a_manifest_naming_a_file_outside_its_folder_serves_nothing(site, bundle_config):
    folder = bundle_config.app_bundle_folder
    make_bundle(folder)
    forged = Manifest("0.2.0", ("3.11",), (), (BundleFile("deb", "../secret.txt", 1, "x"),))
    forged.save(folder)
    assert site.get("/install/..%2Fsecret.txt").status_code == 404
    assert "не для всех" not in site.get("/install").text


def test_any_role_or_none_gets_the_same_page_and_junk_credentials_change_nothing(
    site, bundle_config
):
    make_bundle(bundle_config.app_bundle_folder)
    anonymous = site.get("/install", headers={"User-Agent": WINDOWS_UA}).text
    site.cookies.set("zhurnal_session", "forged")
    junk = site.get(
        "/install", headers={"User-Agent": WINDOWS_UA, "Authorization": "Bearer forged-token"}
    )
    site.cookies.clear()
    assert junk.status_code == 200
    assert steps(junk.text) == steps(anonymous)
    assert log_in(site, "parent").status_code in (302, 303)
    parent = site.get("/install", headers={"User-Agent": WINDOWS_UA})
    assert parent.status_code == 200 and steps(parent.text) == steps(anonymous)
    assert site.post("/install").status_code in (403, 405)  # nothing to change here


def test_a_flood_of_requests_is_answered_and_leaves_the_server_working(site, bundle_config):
    contents = make_bundle(bundle_config.app_bundle_folder)
    codes = [site.get("/install").status_code for _ in range(200)]
    codes += [site.get("/install/zhurnal-0.2.0-windows-amd64.zip").status_code for _ in range(50)]
    codes += [site.get(f"/install/nothing-{i}.zip").status_code for i in range(50)]
    assert codes.count(200) == 250 and codes.count(404) == 50
    assert (
        site.get("/install/zhurnal-0.2.0-windows-amd64.zip").content
        == contents["zhurnal-0.2.0-windows-amd64.zip"]
    )
    assert site.get("/api/v1/health").status_code == 200
