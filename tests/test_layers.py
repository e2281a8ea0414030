"""The layer rules of docs/architecture.md, checked on every import statement (function-level
imports included) of mgld_bench/ and baselines/, read with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Each room's floor: a module may import its own floor and the floors below, never above.
FLOORS: dict[str, int] = {
    **dict.fromkeys(("errors", "specs", "fileio", "download", "extras", "imagecheck", "safeload"), 0),
    **dict.fromkeys(("frames", "options", "protocol", "weights", "weight_trust", "weights_fetch", "registry",
                     "builtins", "provenance", "degrade", "flow"), 1),
    **dict.fromkeys(("datasets", "methods", "metrics", "testing", "baselines"), 2),
    "store": 3,
    "runner": 4,
    "report": 5,
    "api": 6,
    **dict.fromkeys(("cli", "__main__", "__init__"), 7),
}
ADAPTERS = ("datasets", "methods", "metrics", "baselines")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _room(module: str) -> str | None:
    """The room of a module of ours (None: a third-party module or the package root)."""
    parts = module.split(".")
    if parts[0] == "baselines":
        return "baselines"
    if parts[0] != "mgld_bench" or len(parts) == 1 or parts[1] == "__version__":
        return None  # ``from mgld_bench import __version__``: the root's version string
    return parts[1]


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every module ``path`` imports, absolute, with its line."""
    return _imports_of(path.read_text(), _module(path), path.name == "__init__.py")


def _imports_of(text: str, module: str, is_package: bool = False) -> list[tuple[str, int]]:
    package = module.split(".") if is_package else module.split(".")[:-1]
    out: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            # ``from mgld_bench import runner`` imports the room, not the root
            out += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return out


def _edges() -> list[tuple[str, str, str, int]]:
    """(from room, to room, file, line) for every import between two rooms of ours."""
    edges = []
    for top in ("mgld_bench", "baselines"):
        for path in sorted((ROOT / top).rglob("*.py")):
            module = _module(path)
            source = "__init__" if module == "mgld_bench" else _room(module)
            for target, line in _imports(path):
                room = _room(target)
                if source and room and room != source:
                    edges.append((source, room, str(path.relative_to(ROOT)), line))
    return edges


def test_every_room_has_a_floor() -> None:
    rooms = {p.stem if p.is_file() else p.name for p in (ROOT / "mgld_bench").iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").is_file())}
    assert rooms <= set(FLOORS), f"give these a floor in FLOORS and docs/architecture.md: {rooms - set(FLOORS)}"


def test_imports_point_down_only() -> None:
    upward = [f"{f}:{line}: {a} (floor {FLOORS[a]}) imports {b} (floor {FLOORS[b]})"
              for a, b, f, line in _edges() if FLOORS[b] > FLOORS[a]]
    assert not upward, "\n".join(upward)


def test_adapters_never_import_the_store_or_the_runner_and_report_never_the_runner() -> None:
    bad = [f"{f}:{line}: {a} imports {b}" for a, b, f, line in _edges()
           if (a in ADAPTERS and b in ("store", "runner")) or (a == "report" and b == "runner")]
    assert not bad, "\n".join(bad)


def test_the_runner_imports_only_the_base_of_each_adapter_room() -> None:
    bad = []
    for path in sorted((ROOT / "mgld_bench" / "runner").rglob("*.py")):
        for target, line in _imports(path):
            parts = target.split(".")
            if parts[0] == "mgld_bench" and len(parts) > 2 and parts[1] in ADAPTERS and parts[2] != "base":
                bad.append(f"{path.relative_to(ROOT)}:{line}: {target}")
    assert not bad, "\n".join(bad)


def test_the_walk_resolves_relative_and_function_level_imports() -> None:
    text = "from ..runner import local\nfrom . import tables\ndef f():\n    import mgld_bench.store.cache\n"
    found = [_room(m) for m, _ in _imports_of(text, "mgld_bench.report.x")]
    assert found == ["runner", "report", "store"]
