# Устанавливает или обновляет программу «Журнал» из этой папки, без интернета.
# Installs or updates the teacher's app from this folder only (pip --no-index). A new
# environment is made beside the old one and replaces it only once it works: a failed update
# leaves the installed app and the journal data (in %LOCALAPPDATA%\zhurnal, never touched).
# Continue: native commands' stderr (py, pip) must not abort Windows PowerShell 5.1 under
# "Stop"; every step checks $LASTEXITCODE itself, the swap below uses -ErrorAction Stop.
$ErrorActionPreference = "Continue"
[Console]::OutputEncoding = [System.Text.Encoding]::UTF8
$env:PYTHONIOENCODING = "utf-8"
$Here = Split-Path -Parent $MyInvocation.MyCommand.Path
$Prefix = if ($env:ZHURNAL_PREFIX) { $env:ZHURNAL_PREFIX } else { Join-Path $env:LOCALAPPDATA "zhurnal-app" }
$Version = (Get-Content (Join-Path $Here "VERSION")).Trim()

function Fail($Text) {
    Write-Host "ОШИБКА: $Text" -ForegroundColor Red
    Read-Host "Нажмите Enter, чтобы закрыть окно"
    exit 1
}

Write-Host "Журнал: установка версии $Version из $Here"
$Python = $null
foreach ($candidate in @(@("py", "-3.13"), @("py", "-3.12"), @("py", "-3.11"), @("python"), @("python3"))) {
    $exe = $candidate[0]
    $args0 = @($candidate | Select-Object -Skip 1)
    if (-not (Get-Command $exe -ErrorAction SilentlyContinue)) { continue }
    & $exe @args0 -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) and sys.maxsize > 2**32 else 1)" 2>$null
    if ($LASTEXITCODE -eq 0) { $Python = $candidate; break }
}
if (-not $Python) {
    Fail "нужен Python 3.11 или новее (64 бита). Установите его (python-3.x-amd64.exe, отметьте «Add python.exe to PATH») и запустите эту программу снова."
}
$PyExe = $Python[0]
$PyArgs = @($Python | Select-Object -Skip 1)
Write-Host "Шаг 1 из 3: Python найден: $($Python -join ' ')"

New-Item -ItemType Directory -Force -Path $Prefix | Out-Null
$New = Join-Path $Prefix "venv.new"
$Current = Join-Path $Prefix "venv"
$Old = Join-Path $Prefix "venv.old"
if (Test-Path $New) { Remove-Item -Recurse -Force $New }
& $PyExe @PyArgs -m venv $New
if ($LASTEXITCODE -ne 0) { Fail "не удалось создать окружение Python." }

Write-Host "Шаг 2 из 3: установка пакетов из папки (без интернета)..."
$env:PIP_NO_INDEX = "1"
$env:PIP_DISABLE_PIP_VERSION_CHECK = "1"
$env:PIP_CONFIG_FILE = "NUL"
Remove-Item Env:PIP_FIND_LINKS -ErrorAction SilentlyContinue
$NewPython = Join-Path $New "Scripts\python.exe"
$Wheels = Join-Path $Here "wheels"
$ProjectWheel = (Get-ChildItem -Path $Wheels -Filter "zhurnal-*.whl" | Select-Object -First 1).FullName
& $NewPython -m pip --isolated install --no-index --find-links $Wheels --quiet -r (Join-Path $Here "requirements.txt")
$ok = $LASTEXITCODE -eq 0
if ($ok) { & $NewPython -m pip --isolated install --no-index --no-deps --quiet $ProjectWheel; $ok = $LASTEXITCODE -eq 0 }
if ($ok) { & $NewPython -P -m client_tui.cli --version | Out-Null; $ok = $LASTEXITCODE -eq 0 }
if (-not $ok) {
    Remove-Item -Recurse -Force $New -ErrorAction SilentlyContinue
    Fail "установка не удалась; прежняя версия программы и все записи журнала не тронуты."
}
try {
    if (Test-Path $Old) { Remove-Item -Recurse -Force $Old -ErrorAction Stop }
    if (Test-Path $Current) { Rename-Item $Current "venv.old" -ErrorAction Stop }
    Rename-Item $New "venv" -ErrorAction Stop
    if (Test-Path $Old) { Remove-Item -Recurse -Force $Old -ErrorAction SilentlyContinue }
} catch {
    if ((-not (Test-Path $Current)) -and (Test-Path $Old)) { Rename-Item $Old "venv" }
    Fail "не удалось заменить прежнюю версию: закройте «Журнал» во всех окнах и запустите снова."
}

Write-Host "Шаг 3 из 3: ярлык «Журнал»..."
$Launcher = Join-Path $Prefix "journal.bat"
Set-Content -Path $Launcher -Encoding ASCII -Value @(
    "@echo off",
    "chcp 65001 >nul",
    "`"$Current\Scripts\python.exe`" -P -m client_tui.cli %*"
)
$UserPath = [Environment]::GetEnvironmentVariable("Path", "User")
if (-not $UserPath) { $UserPath = "" }
if (-not ($UserPath.Split(";") -contains $Prefix)) {
    [Environment]::SetEnvironmentVariable("Path", ($UserPath.TrimEnd(";") + ";" + $Prefix).TrimStart(";"), "User")
}
$Shell = New-Object -ComObject WScript.Shell
foreach ($Folder in @([Environment]::GetFolderPath("Desktop"), [Environment]::GetFolderPath("Programs"))) {
    $Link = $Shell.CreateShortcut((Join-Path $Folder "Журнал.lnk"))
    $Link.TargetPath = $Launcher
    $Link.WorkingDirectory = $env:USERPROFILE
    $Link.Description = "Электронный журнал учителя"
    $Link.Save()
}
Write-Host "Готово: значок «Журнал» на рабочем столе и в меню «Пуск»; в новом окне терминала: journal" -ForegroundColor Green
Read-Host "Нажмите Enter, чтобы закрыть окно"
