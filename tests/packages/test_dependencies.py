"""ARCHITECTURE.md: pipelines may import packages, never the other way round."""

import ast
from pathlib import Path

import packages


def imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_packages_imports_nothing_of_pipelines():
    root = Path(packages.__file__).parent
    found = [
        (path.relative_to(root).as_posix(), module)
        for path in sorted(root.rglob("*.py"))
        for module in imported_modules(path)
        if module.split(".")[0] == "pipelines"
    ]
    assert found == []
