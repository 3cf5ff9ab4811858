"""Run the real windows under Xvfb and save screenshots to docs/screenshots."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    """Start Xvfb on a free display number and return the DISPLAY value."""
    if shutil.which("Xvfb") is None:
        if os.environ.get("CI"):
            pytest.fail("Xvfb is not installed; run tools/install-system-deps")
        pytest.skip("Xvfb is not installed")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write_end),
            "-screen",
            "0",
            "1280x900x24",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write_end,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.xvfb
@pytest.mark.timeout(120)
def test_screenshots_of_cancel_flow(xvfb_display: str, tmp_path: Path) -> None:
    env = dict(os.environ, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb")
    env["XDG_RUNTIME_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "tests.screenshot_flow", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    after_cancel = tmp_path / "main-window-after-cancel.png"
    assert after_cancel.stat().st_size > 10_000
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for image in tmp_path.glob("*.png"):
        shutil.copyfile(image, SCREENSHOTS / image.name)
