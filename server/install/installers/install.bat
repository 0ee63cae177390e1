@echo off
rem Double-click: install or update the teacher app from this folder (no internet needed).
powershell -NoProfile -ExecutionPolicy Bypass -File "%~dp0install.ps1"
if errorlevel 1 pause
