"""The libraries beside the Dagster code location do not depend on it (DESIGN.md, Layout):
`identity` (called by the dbt Python models), `privacy` (the pseudonyms: the dbt plugin,
the Python models, the code location) and `sample_data` import nothing from
`orchestration`; what they need comes in as parameters."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["identity", "privacy", "sample_data"])
def test_library_does_not_import_the_code_location(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    offending = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in _imported_modules(path)
        if name == "orchestration" or name.startswith("orchestration.")
    }
    assert not offending
