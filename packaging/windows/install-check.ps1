<#
.SYNOPSIS
Installs dist\vaultgui-*-setup.exe silently for the current user, runs the
installed copy's self-test, and checks that uninstalling keeps the user's
settings unless /PURGE is given. The Windows counterpart of `make package-check`.

.DESCRIPTION
Touches %APPDATA%\vaultgui and %LOCALAPPDATA%\vaultgui of the current user,
so run it on a build machine, not on a workstation in use.

NOTE: not yet run; the first CI run on windows-2022 is its first test.
#>
[CmdletBinding()]
param()

$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest
$Root = (Resolve-Path (Join-Path $PSScriptRoot "..\..")).Path
. "$PSScriptRoot\selftest.ps1"

$installers = @(Get-ChildItem (Join-Path $Root "dist\vaultgui-*-setup.exe"))
if ($installers.Count -ne 1) {
    throw "Expected one dist\vaultgui-*-setup.exe, found $($installers.Count); run build.ps1 first"
}
$installer = $installers[0].FullName
$installDir = Join-Path $env:LOCALAPPDATA "Programs\vaultgui"
$settingsDir = Join-Path $env:APPDATA "vaultgui"
$marker = Join-Path $settingsDir "install-check.txt"

function Invoke-Silently {
    param([string]$File, [string[]]$Arguments)
    $process = Start-Process -FilePath $File -ArgumentList $Arguments -Wait -PassThru
    if ($process.ExitCode -ne 0) {
        throw "$File $($Arguments -join ' ') failed with exit code $($process.ExitCode)"
    }
}

# The uninstaller copies itself to %TEMP% and lets the copy do the work, which
# may still run after the first process has exited, so results are polled for.
function Wait-Gone {
    param([string]$Path, [int]$Seconds = 60)
    $deadline = (Get-Date).AddSeconds($Seconds)
    while ((Test-Path $Path) -and ((Get-Date) -lt $deadline)) {
        Start-Sleep -Milliseconds 500
    }
}

function Install-Vaultgui {
    $log = Join-Path $env:TEMP "vaultgui-install.log"
    Invoke-Silently $installer @("/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART",
                                 "/CURRENTUSER", "/LOG=`"$log`"")
    if (-not (Test-Path (Join-Path $installDir "vaultgui.exe"))) {
        Get-Content $log | ForEach-Object { Write-Host $_ }
        throw "vaultgui.exe is missing from $installDir after the install"
    }
}

function Uninstall-Vaultgui {
    param([string[]]$Extra = @())
    Invoke-Silently (Join-Path $installDir "unins000.exe") (@("/VERYSILENT",
        "/SUPPRESSMSGBOXES", "/NORESTART") + $Extra)
    Wait-Gone (Join-Path $installDir "unins000.exe")
    if (Test-Path (Join-Path $installDir "vaultgui.exe")) {
        throw "vaultgui.exe is still in $installDir after the uninstall"
    }
}

Write-Host "== install for the current user"
Install-Vaultgui
$installed = Join-Path $installDir "vaultgui.exe"
Invoke-VaultguiSelfTest -Exe $installed -Platform "offscreen"
Invoke-VaultguiSelfTest -Exe $installed -Platform "windows"

Write-Host "== install again over the installed copy (upgrade in place)"
Install-Vaultgui
Invoke-VaultguiSelfTest -Exe $installed -Platform "offscreen"

Write-Host "== uninstall keeps the user's settings"
New-Item -ItemType Directory -Force -Path $settingsDir | Out-Null
Set-Content -Path $marker -Value "kept"
Uninstall-Vaultgui
Start-Sleep -Seconds 5
if (-not (Test-Path $marker)) { throw "Uninstalling deleted $marker without /PURGE" }

Write-Host "== uninstall /PURGE deletes them"
Install-Vaultgui
Uninstall-Vaultgui -Extra @("/PURGE")
Wait-Gone $settingsDir -Seconds 30
if (Test-Path $settingsDir) { throw "Uninstalling with /PURGE left $settingsDir" }

Write-Host "install-check: all checks passed"
