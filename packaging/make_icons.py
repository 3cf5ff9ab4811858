"""Render vaultgui.svg into the PNG, ICO and ICNS icons the installers need."""

from __future__ import annotations

import argparse
import logging
import os
import struct
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
SVG_FILE = ROOT / "vaultgui" / "resources" / "vaultgui.svg"

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types that hold a PNG, with the pixel size of each. The "@2x"
# types (ic11 to ic14) are the Retina variants of the size they name.
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic13", 256),
    (b"ic14", 512),
)


def render_pngs(
    svg_file: Path, sizes: tuple[int, ...], output: Path
) -> dict[int, Path]:
    """Render ``svg_file`` with Qt into ``output``/vaultgui-<size>.png for each size."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    renderer = QSvgRenderer(str(svg_file))
    if not renderer.isValid():
        raise ValueError(f"{svg_file} is not a valid SVG file")
    written: dict[int, Path] = {}
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = output / f"vaultgui-{size}.png"
        # Qt picks the PNG encoder from the file suffix.
        if not image.save(str(path)):
            raise OSError(f"Qt could not write the {size}x{size} icon to {path}")
        written[size] = path
    del app
    return written


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """Pack PNG images into one ICO file (PNG entries need Windows Vista or later)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries = b""
    images = b""
    for size, png in sorted(pngs.items()):
        # A width or height of 0 means 256 pixels.
        edge = 0 if size >= 256 else size
        entries += struct.pack(
            "<BBBBHHII", edge, edge, 0, 0, 1, 32, len(png), offset + len(images)
        )
        images += png
    return header + entries + images


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """Pack PNG images into one ICNS file, every element a PNG."""
    elements = b""
    for element_type, size in ICNS_TYPES:
        png = pngs[size]
        elements += element_type + struct.pack(">I", 8 + len(png)) + png
    return b"icns" + struct.pack(">I", 8 + len(elements)) + elements


def write_icons(output: Path) -> list[Path]:
    """Write vaultgui-<size>.png, vaultgui.png, .ico and .icns into ``output``."""
    output.mkdir(parents=True, exist_ok=True)
    png_files = render_pngs(SVG_FILE, PNG_SIZES, output)
    pngs = {size: path.read_bytes() for size, path in png_files.items()}
    files = {
        "vaultgui.png": pngs[256],
        "vaultgui.ico": ico_bytes({size: pngs[size] for size in ICO_SIZES}),
        "vaultgui.icns": icns_bytes(pngs),
    }
    written = list(png_files.values())
    for name, data in files.items():
        path = output / name
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Parse the output folder, write the icons and list them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "output",
        type=Path,
        nargs="?",
        default=ROOT / "build" / "icons",
        help="folder to write the icons to (default: build/icons)",
    )
    options = parser.parse_args(argv)
    for path in write_icons(options.output):
        print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
