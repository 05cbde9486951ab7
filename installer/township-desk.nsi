; NSIS script for the per-machine installer of 乡镇卫生院工作台.
; Build after PyInstaller: makensis installer\township-desk.nsi
Unicode true
!define APP "township-desk"
!define TITLE "乡镇卫生院工作台"
Name "${TITLE}"
OutFile "..\dist\township-desk-setup.exe"
InstallDir "$PROGRAMFILES64\${APP}"
RequestExecutionLevel admin

Section "Install"
  SetOutPath "$INSTDIR"
  File /r "..\dist\township-desk\*.*"
  CreateShortcut "$DESKTOP\${TITLE}.lnk" "$INSTDIR\township-desk.exe"
  CreateDirectory "$SMPROGRAMS\${TITLE}"
  CreateShortcut "$SMPROGRAMS\${TITLE}\${TITLE}.lnk" "$INSTDIR\township-desk.exe"
  WriteUninstaller "$INSTDIR\uninstall.exe"
SectionEnd

; Uninstalling removes the program only: the branch's data folder (%LOCALAPPDATA%\township-desk)
; is never deleted by the uninstaller.
Section "Uninstall"
  Delete "$DESKTOP\${TITLE}.lnk"
  RMDir /r "$SMPROGRAMS\${TITLE}"
  RMDir /r "$INSTDIR"
SectionEnd
