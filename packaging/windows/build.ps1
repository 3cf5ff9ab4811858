<#
.SYNOPSIS
Builds the vaultgui installer for Windows: the PyInstaller folder, its
self-test, optional code signing, and the Inno Setup installer in dist\.

.DESCRIPTION
Creates .venv with the "package" extra (as `make package` does on Linux and
macOS), runs packaging\build.py, runs `vaultgui.exe --self-test` offscreen,
and compiles packaging\windows\vaultgui.iss with Inno Setup 6.

Signing runs only when both variables are set:
  VAULTGUI_SIGN_PFX           path to the code-signing certificate (.pfx)
  VAULTGUI_SIGN_PFX_PASSWORD  its password
  VAULTGUI_SIGN_TIMESTAMP_URL RFC 3161 time-stamp server (optional)
Then vaultgui.exe, the installer and its uninstaller are signed with SHA-256.

NOTE: written for Windows PowerShell 5.1 and PowerShell 7 but not yet run;
the first CI run on windows-2022 is its first test.
#>
[CmdletBinding()]
param(
    [string]$Python = "python"
)

$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

$Root = (Resolve-Path (Join-Path $PSScriptRoot "..\..")).Path
Set-Location $Root
. "$PSScriptRoot\selftest.ps1"

function Invoke-Native {
    param([string]$File, [string[]]$Arguments)
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) {
        throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE"
    }
}

function Find-SignTool {
    $kits = Join-Path ${env:ProgramFiles(x86)} "Windows Kits\10\bin"
    $found = Get-ChildItem -Path $kits -Filter signtool.exe -Recurse -ErrorAction SilentlyContinue |
        Where-Object { $_.FullName -match "\\x64\\" } |
        Sort-Object FullName -Descending |
        Select-Object -First 1
    if (-not $found) {
        throw "signtool.exe not found under $kits; install the Windows SDK signing tools."
    }
    return $found.FullName
}

function Find-InnoSetup {
    $command = Get-Command iscc.exe -ErrorAction SilentlyContinue
    if ($command) { return $command.Source }
    $default = Join-Path ${env:ProgramFiles(x86)} "Inno Setup 6\ISCC.exe"
    if (Test-Path $default) { return $default }
    throw "Inno Setup 6 (ISCC.exe) not found; install it, for example with: choco install innosetup"
}

# -- the frozen app -------------------------------------------------------------
$venvPython = Join-Path $Root ".venv\Scripts\python.exe"
if (-not (Test-Path $venvPython)) {
    Invoke-Native $Python @("-m", "venv", ".venv")
}
Invoke-Native $venvPython @("-m", "pip", "install", "--quiet", "--upgrade", "pip")
Invoke-Native $venvPython @("-m", "pip", "install", "--quiet", "-e", ".[package]")
Invoke-Native $venvPython @("packaging\build.py")

$appExe = Join-Path $Root "dist\vaultgui\vaultgui.exe"
Invoke-VaultguiSelfTest -Exe $appExe -Platform "offscreen"

$version = (& $venvPython -c "import vaultgui; print(vaultgui.__version__)").Trim()

# -- signing, only with a certificate ---------------------------------------------
$isccArguments = @("/DAppVersion=$version")
$pfx = $env:VAULTGUI_SIGN_PFX
$pfxPassword = $env:VAULTGUI_SIGN_PFX_PASSWORD
if ($pfx -and $pfxPassword) {
    $signTool = Find-SignTool
    $timestampUrl = $env:VAULTGUI_SIGN_TIMESTAMP_URL
    if (-not $timestampUrl) { $timestampUrl = "http://timestamp.digicert.com" }
    # Imported into the user's certificate store, so that signtool selects it by
    # thumbprint and the password appears on no command line.
    $securePassword = ConvertTo-SecureString $pfxPassword -AsPlainText -Force
    # A .pfx may carry its CA chain too; the signing certificate has the key.
    $certificate = Import-PfxCertificate -FilePath $pfx -Password $securePassword `
        -CertStoreLocation Cert:\CurrentUser\My |
        Where-Object { $_.HasPrivateKey } | Select-Object -First 1
    if (-not $certificate) { throw "$pfx contains no certificate with a private key" }
    $thumbprint = $certificate.Thumbprint
    Invoke-Native $signTool @("sign", "/sha1", $thumbprint, "/fd", "sha256",
                              "/tr", $timestampUrl, "/td", "sha256", $appExe)
    # Inno Setup replaces $q with a double quote and $f with the file to sign.
    $innoSign = "signtool=`$q$signTool`$q sign /sha1 $thumbprint /fd sha256 " +
                "/tr $timestampUrl /td sha256 `$f"
    $isccArguments += @("/DSignInstaller", "/S$innoSign")
    Write-Host "Signing vaultgui.exe and the installer with certificate $thumbprint"
} else {
    Write-Host "VAULTGUI_SIGN_PFX or VAULTGUI_SIGN_PFX_PASSWORD not set: building unsigned"
}

# -- the installer ------------------------------------------------------------------
$iscc = Find-InnoSetup
Invoke-Native $iscc ($isccArguments + @("packaging\windows\vaultgui.iss"))
$installer = Join-Path $Root "dist\vaultgui-$version-setup.exe"
if (-not (Test-Path $installer)) { throw "Inno Setup finished but $installer is missing" }
Write-Host ("{0}: {1:N1} MB" -f $installer, ((Get-Item $installer).Length / 1e6))
