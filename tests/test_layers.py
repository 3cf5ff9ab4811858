"""The package's layers import only downwards: ui → services; demo is stdlib only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "vaultgui"
SERVICE_THIRD_PARTY = {
    "requests",
    "urllib3",
    "platformdirs",
    "keyring",
    "truststore",
    "tomli_w",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def layer_files(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("path", layer_files("services"), ids=lambda p: p.name)
def test_services_import_no_qt(path: Path) -> None:
    for module in imported_modules(path):
        top = module.split(".")[0]
        allowed = (
            top in sys.stdlib_module_names
            or top in SERVICE_THIRD_PARTY
            or module.startswith("vaultgui.services")
            or module == "vaultgui"
        )
        assert allowed, f"{path.name} imports {module}"


@pytest.mark.parametrize("path", layer_files("demo"), ids=lambda p: p.name)
def test_demo_imports_stdlib_only(path: Path) -> None:
    for module in imported_modules(path):
        top = module.split(".")[0]
        allowed = top in sys.stdlib_module_names or module.startswith("vaultgui.demo")
        assert allowed, f"{path.name} imports {module}"


@pytest.mark.parametrize("path", layer_files("ui"), ids=lambda p: p.name)
def test_ui_does_not_import_app(path: Path) -> None:
    assert "vaultgui.app" not in imported_modules(path)
