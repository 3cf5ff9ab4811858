<#
.SYNOPSIS
Defines Invoke-VaultguiSelfTest, which runs `vaultgui.exe --self-test` and
fails unless it exits with 0 and every line it prints starts with "ok".

.DESCRIPTION
vaultgui.exe is a windowed program, so it has no console; Start-Process hands
it files as standard output and error instead, and -Wait waits for its exit.
Dot-source this file: . packaging\windows\selftest.ps1
#>

function Invoke-VaultguiSelfTest {
    param(
        [Parameter(Mandatory)] [string]$Exe,
        # QT_QPA_PLATFORM for the run: "offscreen", or "windows" for the real
        # platform plugin, which needs an interactive desktop session.
        [Parameter(Mandatory)] [string]$Platform
    )
    $output = New-TemporaryFile
    $errors = New-TemporaryFile
    $previous = $env:QT_QPA_PLATFORM
    $env:QT_QPA_PLATFORM = $Platform
    try {
        $process = Start-Process -FilePath $Exe -ArgumentList "--self-test" `
            -RedirectStandardOutput $output.FullName -RedirectStandardError $errors.FullName `
            -NoNewWindow -Wait -PassThru
    } finally {
        $env:QT_QPA_PLATFORM = $previous
    }
    $lines = @(Get-Content -Encoding UTF8 $output.FullName)
    $lines | ForEach-Object { Write-Host $_ }
    $failed = @($lines | Where-Object { -not $_.StartsWith("ok") })
    if ($process.ExitCode -ne 0 -or $lines.Count -eq 0 -or $failed.Count -gt 0) {
        Get-Content $errors.FullName | ForEach-Object { Write-Host $_ }
        throw "Self-test of $Exe ($Platform) failed with exit code $($process.ExitCode)"
    }
    Write-Host "Self-test of $Exe ($Platform) passed"
}
