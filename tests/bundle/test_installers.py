"""What can be checked of the installers on Linux without running Windows: encodings that
Windows reads right, shell syntax, and that every pip call stays off the network."""

from __future__ import annotations

import re
import subprocess

import pytest

from server.install.builder import INSTALLERS


def test_powershell_script_has_a_bom_so_windows_powershell_reads_its_russian_as_utf8():
    data = (INSTALLERS / "install.ps1").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # without it PowerShell 5.1 reads cp1251
    data.decode("utf-8")


def test_bat_file_is_ascii_with_crlf_lines():
    data = (INSTALLERS / "install.bat").read_bytes()
    data.decode("ascii")
    assert data.count(b"\r\n") == data.count(b"\n") > 0


@pytest.mark.parametrize("name", ["install.sh", "deb-postinst.sh", "deb-prerm.sh"])
def test_shell_scripts_parse(name):
    assert subprocess.run(["sh", "-n", str(INSTALLERS / name)]).returncode == 0


@pytest.mark.parametrize("name", ["install.sh", "deb-postinst.sh", "install.ps1"])
def test_every_pip_install_uses_the_bundle_only(name):
    text = (INSTALLERS / name).read_text("utf-8-sig")
    calls = re.findall(r"-m pip [^\n]*", text)
    assert calls
    for call in calls:
        assert "--isolated install --no-index" in call, call
    launchers = re.findall(r"-m client_tui\.cli", text)
    assert launchers and all(
        "-P -m client_tui.cli" in line for line in text.splitlines() if "client_tui.cli" in line
    )
