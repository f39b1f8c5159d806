"""The structure the style guide asks for, guarded by tests: one owner per engine, a documented setting
for every KB_* variable, a domain layer that never imports the web layer or Flask."""
import ast
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


# --- one door: the web layer and the CLI call the service and the policy --------------------------------

# What kb/web/ and kb/cli.py may import from the domain: the service (kb.wiki, its facade only), the policy,
# the domain errors, the search types, the taxonomy; and the accounts service (users, the sign-in throttle).
DOOR = {"kb.wiki", "kb.access", "kb.errors", "kb.search", "kb.searchtypes", "kb.taxonomy", "kb.users", "kb.throttle"}
REACH = re.compile(r"\.(store|history|renderer|index|indexer|redirects)\.\w")


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def kb_imports(path: Path, text: str) -> set[str]:
    """The kb modules a file imports, as dotted names (``from .. import access`` gives kb.access)."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name == "kb" or a.name.startswith("kb.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            if origin != "kb" and not origin.startswith("kb."):
                continue
            names = [a.name for a in node.names]
            # ``from .. import access``: each name may be a module of that package
            subs = {f"{origin}.{n}" for n in names if (ROOT / Path(*f"{origin}.{n}".split("."))).exists()
                    or (ROOT / Path(*f"{origin}.{n}".split("."))).with_suffix(".py").exists()}
            found |= subs or {origin}
    return found


def _outside_door(name: str) -> bool:
    if name.startswith("kb.web"):
        return False
    return not (name in DOOR or name.startswith("kb.search."))  # the search package's types


def test_every_kb_import_names_a_module_of_this_tree():
    """An import of a module that is gone must fail here (an editable install could answer it from elsewhere)."""
    for path, text in MODULES.items():
        for name in kb_imports(path, text):
            target = ROOT / Path(*name.split("."))
            assert target.with_suffix(".py").exists() or (target / "__init__.py").exists(), (_rel(path), name)


def test_the_web_layer_and_the_cli_go_through_one_door():
    for path, text in MODULES.items():
        rel = _rel(path)
        cli = re.fullmatch(r"kb/cli(_\w+)?\.py", rel) is not None  # kb/cli.py and its command modules
        if not (rel.startswith("kb/web/") or cli):
            continue
        allowed = DOOR | {"kb.config", "kb.firststart", "kb.cli"} if cli else DOOR  # settings and folders
        wrong = {n for n in kb_imports(path, text) if _outside_door(n) and n not in allowed
                 and not (cli and re.fullmatch(r"kb\.cli_\w+", n))}  # kb/cli.py registers its command modules
        assert not wrong, f"{rel} imports {sorted(wrong)}: call the service (kb.wiki) or the policy instead"
        reach = REACH.findall(text)
        assert not reach, f"{rel} reaches through the service into {sorted(set(reach))}"


def test_blueprints_do_not_import_each_other():
    web = {path.stem: text for path, text in MODULES.items() if _rel(path).startswith("kb/web/")}
    blueprints = {name for name, text in web.items() if re.search(r"\bBlueprint\(", text)}
    assert {"notes", "editor", "admin", "api"} <= blueprints
    for name in blueprints:
        path = ROOT / "kb" / "web" / f"{name}.py"
        siblings = {n.rsplit(".", 1)[1] for n in kb_imports(path, web[name]) if n.startswith("kb.web.")}
        assert not siblings & blueprints, f"kb/web/{name}.py imports {sorted(siblings & blueprints)}"


def test_one_guard_for_every_admin_page(app):
    """Every /admin URL answers a non-admin with the same 404, from one guard, not one per blueprint."""
    admin_rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]
    assert admin_rules
    guards = [p for p, text in MODULES.items() if "abort(404)  # like the rest of /admin" in text
              or re.search(r"before_request\s*\n\s*def admins_only", text)]
    assert guards == []
    client = app.test_client()
    for rule in admin_rules:
        url = re.sub(r"<(?:\w+:)?(\w+)>", "x", rule.rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            assert client.open(url, method=method).status_code in (404, 400), (method, url)


def test_one_list_of_roles_languages_and_statuses():
    """Roles, languages and statuses are spelled out in kb/taxonomy.py only; everything else imports them."""
    spelled = {
        "roles": re.compile(r"[\"']focal_point[\"']\s*,\s*[\"']practitioner[\"']|[\"']admin[\"']\s*,\s*[\"']focal_point"),
        "languages": re.compile(r"[\"']en[\"']\s*,\s*[\"']fr[\"']\s*,\s*[\"']ar[\"']"),
        "statuses": re.compile(r"\(\s*[\"']draft[\"']\s*,\s*[\"']review[\"']\s*,\s*[\"']published[\"']\s*\)"),
    }
    for what, rx in spelled.items():
        owners = {_rel(p) for p, text in MODULES.items() if rx.search(text)
                  and not _rel(p).startswith("kb/search")}  # the search package is being rebuilt apart
        assert owners <= {"kb/taxonomy.py"}, (what, owners)


def test_no_module_is_too_large():
    """A module past 400 lines is asking to be split (the search engine is being split separately)."""
    for path, text in MODULES.items():
        rel = _rel(path)
        if rel.startswith("kb/search"):
            continue
        assert text.count("\n") <= 400, rel


# --- docs/architecture.md: the import graph it draws is the one the code has ------------------------------

def _import_graph():
    import importlib.util
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "docs" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_architecture_page_draws_the_real_import_graph():
    graph = _import_graph()
    assert graph.in_page() == graph.text(), "run: python docs/import_graph.py --write"


def test_the_import_graph_has_no_cycle():
    edges = _import_graph().graph()
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 1:
            raise AssertionError(" -> ".join(path + [node]))
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            visit(nxt, path + [node])
        state[node] = 2

    for start in sorted(edges):
        visit(start, [])
