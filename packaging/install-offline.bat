@echo off
rem Install rca_app on a Windows workstation with no internet access, from a wheelhouse folder
rem made with `make wheelhouse PLATFORM=win_amd64` on a connected machine.
rem Usage: install-offline.bat [WHEELHOUSE] [VENV]   (needs Python 3.11 or 3.12 as "py -3.11")
setlocal
set HERE=%~dp0
set WHEELS=%~1
if "%WHEELS%"=="" set WHEELS=%HERE%wheelhouse
set VENV=%~2
if "%VENV%"=="" set VENV=%USERPROFILE%\rca_app_venv
py -3.11 -m venv "%VENV%" || py -3.12 -m venv "%VENV%" || exit /b 1
"%VENV%\Scripts\python.exe" -m pip install --no-index --find-links "%WHEELS%" --require-hashes -r "%WHEELS%\requirements.txt" || exit /b 1
echo Installed. Start the app with: "%VENV%\Scripts\rca-app.exe"
endlocal
