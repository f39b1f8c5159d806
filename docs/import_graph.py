"""kb's import graph, read from the source: each module (packages collapsed: web, wiki, search) and the kb
modules it imports. `python docs/import_graph.py` prints it; `--write` puts it in docs/architecture.md
between its markers (tests/test_structure.py checks the page shows the graph the code has)."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "architecture.md"
BEGIN, END = "<!-- import graph: begin -->", "<!-- import graph: end -->"
PACKAGES = ("web", "wiki", "search")  # shown as one node each


def node(module: str) -> str:
    """kb.wiki.writes -> wiki; kb.model -> model; kb -> kb (the factory)."""
    parts = module.split(".")[1:]
    if not parts:
        return "kb"
    return parts[0]


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _nodes(tree: ast.AST):
    """Every node, except what is under ``if TYPE_CHECKING:`` (annotations only, no import at run time)."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.If) and getattr(child.test, "id", None) == "TYPE_CHECKING":
            continue
        yield child
        yield from _nodes(child)


def imports(path: Path) -> set[str]:
    package = module_of(path) if path.name == "__init__.py" else module_of(path).rsplit(".", 1)[0]
    found = set()
    for n in _nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(n, ast.Import):
            found |= {a.name for a in n.names if a.name == "kb" or a.name.startswith("kb.")}
        elif isinstance(n, ast.ImportFrom):
            if n.level:
                base = package.split(".")[: len(package.split(".")) - n.level + 1]
                origin = ".".join(base + ([n.module] if n.module else []))
            else:
                origin = n.module or ""
            if origin == "kb":  # from . import access: a module; from . import create_app: the package
                found |= {f"kb.{a.name}" if (ROOT / "kb" / a.name).exists()
                          or (ROOT / "kb" / f"{a.name}.py").exists() else "kb" for a in n.names}
            elif origin.startswith("kb."):
                found.add(origin)
    return found


def graph() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in sorted((ROOT / "kb").rglob("*.py")):
        src = node(module_of(path))
        out.setdefault(src, set())
        out[src] |= {node(m) for m in imports(path)} - {src}
    return out


def text() -> str:
    lines = [f"{src:<15} -> {', '.join(sorted(dst)) or '(nothing of kb)'}" for src, dst in sorted(graph().items())]
    return "```\n" + "\n".join(lines) + "\n```"


def in_page() -> str:
    page = PAGE.read_text(encoding="utf-8")
    return page.split(BEGIN, 1)[1].split(END, 1)[0].strip()


if __name__ == "__main__":
    if "--write" in sys.argv:
        page = PAGE.read_text(encoding="utf-8")
        head, rest = page.split(BEGIN, 1)
        PAGE.write_text(head + BEGIN + "\n" + text() + "\n" + END + rest.split(END, 1)[1], encoding="utf-8")
    else:
        print(text())
