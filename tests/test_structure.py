"""The structure the style guide asks for, guarded by tests: one owner per engine, a documented setting
for every KB_* variable, a domain layer that never imports the web layer or Flask."""
import re
from pathlib import Path

import pytest

from kb.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
MODULES = {p: p.read_text(encoding="utf-8") for p in (ROOT / "kb").rglob("*.py")}


def importers(engine: str) -> set[str]:
    pattern = re.compile(rf"^\s*(import|from)\s+{engine}(\s|\.|$)", re.M)
    return {str(p.relative_to(ROOT)) for p, text in MODULES.items() if pattern.search(text)}


@pytest.mark.parametrize("engine, owner", [
    ("whoosh", "kb/search/"), ("markdown", {"kb/render.py"}), ("bleach", {"kb/render.py"}),
    ("yaml", {"kb/yamlio.py"}), ("sqlalchemy", None),
])
def test_each_engine_has_one_owner(engine, owner):
    found = importers(engine)
    if owner is None:
        assert found and all(not f.startswith("kb/web/") for f in found)
    elif isinstance(owner, str):  # a package owns the engine: only its modules import it
        assert found and all(f.startswith(owner) for f in found)
    else:
        assert found == owner


def test_only_history_runs_git():
    runners = {str(p.relative_to(ROOT)) for p, text in MODULES.items() if re.search(r"\[\s*[\"']git[\"']", text)}
    assert runners == {"kb/history.py"}


def test_only_history_runs_git_filter_repo():
    runners = {str(p.relative_to(ROOT)) for p, text in MODULES.items() if "git_filter_repo" in text}
    assert runners == {"kb/history.py"}


def test_domain_never_imports_flask_or_the_web_layer():
    for path, text in MODULES.items():
        rel = path.relative_to(ROOT)
        if rel.parts[1] == "web" or rel.name in ("__init__.py", "cli.py", "wsgi.py", "__main__.py"):
            continue
        # werkzeug.security (password hashing) is a library function, not the web layer
        assert not re.search(r"^\s*(from|import)\s+(flask|flask_\w+|werkzeug(?!\.security))\b", text, re.M), rel
        assert not re.search(r"^\s*from\s+\.+web\b", text, re.M), rel


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = set(re.findall(r"^\| `(KB_[A-Z_]+)` \|", readme, re.M))
    assert table == {s.name for s in SETTINGS}


def test_readme_shows_the_two_commands_first():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```")[1]
    assert "make run" in first_block and "make test" in first_block


def test_index_folder_tracks_only_a_placeholder():
    ignore = (ROOT / ".gitignore").read_text()
    assert "/index/*" in ignore and "!/index/README" in ignore
