; Inno Setup 6 script of the vaultgui installer for Windows 10 and 11 (x64).
;
; Built by packaging\windows\build.ps1 from the PyInstaller folder dist\vaultgui:
;   iscc /DAppVersion=0.1.0 packaging\windows\vaultgui.iss
; build.ps1 adds /DSignInstaller and /Ssigntool=... only when a code-signing
; certificate is provided, so an unsigned build needs no certificate.
;
; Install modes
;   Per user, no administrator rights (default): %LOCALAPPDATA%\Programs\vaultgui
;   All users (administrator): %ProgramFiles%\vaultgui, chosen in the first
;   dialog or with /ALLUSERS
;
; Silent install and removal (see docs/deploying.md):
;   vaultgui-0.1.0-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART /CURRENTUSER
;   vaultgui-0.1.0-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART /ALLUSERS
;   optional: /DIR="D:\Apps\vaultgui" /LOG="%TEMP%\vaultgui-install.log"
;             /TASKS="desktopicon" /NOICONS
;   "<install folder>\unins000.exe" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART
;   add /PURGE to the uninstaller to delete the user's settings and history too.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=x.y.z vaultgui.iss
#endif

#define AppName "vaultgui"
#define AppExe "vaultgui.exe"
#define BundleDir "..\..\dist\vaultgui"
#define IconFile "..\..\build\icons\vaultgui.ico"

[Setup]
; The AppId ties every version together: a newer installer upgrades the
; installed copy in place. Never change it.
AppId={{E41FADFC-0C8C-4F80-AE7C-FF3B5272F867}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppName}
VersionInfoVersion={#AppVersion}
VersionInfoDescription={#AppName} installer
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
UsePreviousAppDir=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
; Closes a running vaultgui through the Restart Manager before files change.
CloseApplications=yes
RestartApplications=no
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
SetupIconFile={#IconFile}
WizardStyle=modern
Compression=lzma2/max
SolidCompression=yes
OutputDir=..\..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-setup
#ifdef SignInstaller
SignTool=signtool
SignedUninstaller=yes
#endif

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; The one-folder bundle changes between versions. Files left from an older one
; (a Qt plugin above all, which Qt loads from its folder) could break the new
; version, so the bundle folder is emptied before the new files are copied.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
// The settings (%APPDATA%\vaultgui) and the history and logs
// (%LOCALAPPDATA%\vaultgui) of the user who runs the uninstaller stay unless
// the uninstaller gets /PURGE or that user answers Yes to the question below.
// Other users' folders and the site-wide settings in C:\ProgramData\vaultgui
// are never touched.

function PurgeRequested(): Boolean;
var
  Index: Integer;
begin
  Result := False;
  for Index := 1 to ParamCount do
    if CompareText(ParamStr(Index), '/PURGE') = 0 then
      Result := True;
end;

procedure DeleteUserData();
begin
  DelTree(ExpandConstant('{userappdata}\{#AppName}'), True, True, True);
  DelTree(ExpandConstant('{localappdata}\{#AppName}'), True, True, True);
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep <> usPostUninstall then
    exit;
  if PurgeRequested() then
    DeleteUserData()
  else if not UninstallSilent() then
    if MsgBox('Also delete your vaultgui settings and the history of your actions?' + #13#10 + #13#10 +
              'Choose No to keep them for a later installation.',
              mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES then
      DeleteUserData();
end;
