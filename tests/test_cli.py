"""The kb command: init, import, index rebuild/check, user and token commands, exit codes."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import cli

from .conftest import CORPUS, SHIPPED, git


@pytest.fixture
def env(tmp_path, monkeypatch):
    content = tmp_path / "content"
    shutil.copytree(SHIPPED, content)
    for key, sub in (("KB_CONTENT_DIR", "content"), ("KB_INDEX_DIR", "index"), ("KB_INSTANCE_DIR", "instance")):
        monkeypatch.setenv(key, str(tmp_path / sub))
    monkeypatch.setenv("KB_ADMIN_PASSWORD", "a-long-admin-password")
    return tmp_path


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


GOOD = "---\ntitle: {title}\nlanguage: en\nregions: [Niger]\n---\nText about {title}.\n"


def test_init_creates_repository_database_admin_and_index(env):
    result = run("init")
    assert result.exit_code == 0, result.output
    assert "password from KB_ADMIN_PASSWORD" in result.output
    assert (env / "content" / ".git").is_dir()
    assert git(env / "content", "log", "--oneline").strip()
    assert (env / "instance" / "kb.sqlite").exists()
    again = run("init")
    assert again.exit_code == 0 and "Created" not in again.output
    listing = run("user", "list")
    assert listing.output.startswith("admin\tadmin")


def test_init_prints_a_random_admin_password_once(env, monkeypatch):
    monkeypatch.delenv("KB_ADMIN_PASSWORD")
    first = run("init")
    assert "with the password: " in first.output
    assert "with the password" not in run("init").output


def test_import_reports_bad_files_commits_once_and_is_idempotent(env):
    run("init")
    src = env / "incoming"
    write(src / "ifrc-ecv" / "en" / "Action_01.md", GOOD.format(title="Surveillance"))
    write(src / "ifrc-ecv" / "fr" / "Action_01.md", GOOD.format(title="Surveillance FR"))
    write(src / "bad" / "no-title.md", "---\nlanguage: en\n---\nx\n")
    write(src / "bad" / "region.md", "---\ntitle: x\nlanguage: en\nregions: [Atlantis]\n---\nx\n")
    before = git(env / "content", "rev-list", "--count", "HEAD")
    result = run("import", str(src))
    assert result.exit_code == 1
    assert "no-title.md: title: is required" in result.output
    assert "region.md: regions: unknown region or country 'Atlantis'" in result.output
    assert "2 added, 0 unchanged, 2 with errors" in result.output
    assert (env / "content" / "ifrc-ecv-en-action-01.md").exists()
    assert int(git(env / "content", "rev-list", "--count", "HEAD")) == int(before) + 1
    shutil.rmtree(src / "bad")
    again = run("import", str(src))
    assert again.exit_code == 0
    assert "0 added, 2 unchanged, 0 with errors" in again.output
    assert int(git(env / "content", "rev-list", "--count", "HEAD")) == int(before) + 1
    found = run("index", "check")
    assert found.exit_code == 0 and "matches" in found.output


def test_import_clash_gets_a_suffix_and_never_overwrites(env):
    run("init")
    a = write(env / "a" / "same-name.md", GOOD.format(title="First"))
    b = write(env / "b" / "Same_Name.md", GOOD.format(title="Second"))
    assert run("import", str(a.parent)).exit_code == 0
    assert run("import", str(b.parent)).exit_code == 0
    assert "First" in (env / "content" / "same-name.md").read_text()
    assert "Second" in (env / "content" / "same-name-2.md").read_text()


def test_index_check_finds_drift_and_repairs_it(env):
    run("init")
    content = env / "content"
    write(content / "new-behind-back.md", GOOD.format(title="Sneaky"))
    victim = sorted(p for p in content.glob("*.md"))[0]
    victim.write_text(victim.read_text() + "\nMore text.\n")
    gone = sorted(p for p in content.glob("*.md"))[1]
    gone.unlink()
    check = run("index", "check")
    assert check.exit_code == 1
    assert "missing: new-behind-back" in check.output
    assert f"stale: {victim.stem}" in check.output
    assert f"orphaned: {gone.stem}" in check.output
    assert run("index", "check", "--repair").exit_code == 0
    assert "matches" in run("index", "check").output


def test_index_rebuild_shows_progress_and_count(env):
    run("init")
    result = run("index", "rebuild")
    assert result.exit_code == 0
    n = len(list((env / "content").glob("*.md")))
    assert f"Indexed {n} notes." in result.output


def test_user_commands_and_exit_codes(env):
    run("init")
    ok = run("user", "add", "moussa", "--role", "focal_point", "--region", "Sahel", input="a-good-password\n")
    assert ok.exit_code == 0, ok.output
    short = run("user", "add", "bob", "--role", "practitioner", input="short\n")
    assert short.exit_code == 1 and "Error" in short.output
    no_region = run("user", "add", "fp", "--role", "focal_point", input="a-good-password\n")
    assert no_region.exit_code == 1
    bad_region = run("user", "add", "fp", "--role", "focal_point", "--region", "Atlantis", input="a-good-password\n")
    assert bad_region.exit_code == 1
    assert run("user", "set-role", "moussa", "--role", "practitioner").exit_code == 0
    assert run("user", "disable", "moussa").exit_code == 0
    assert "moussa\tpractitioner\t\tdisabled" in run("user", "list").output
    assert run("user", "disable", "nobody").exit_code == 1


def test_token_create_prints_token_alone_on_last_line_and_revoke(env):
    run("init")
    created = run("token", "create", "admin")
    assert created.exit_code == 0
    token = created.output.strip().splitlines()[-1]
    assert token.startswith("kb_") and " " not in token
    assert run("token", "revoke", "1").exit_code == 0
    assert run("token", "revoke", "99").exit_code == 1


def test_bad_paths_and_missing_taxonomy_fail_with_one_line(env):
    assert run("import", str(env / "nope")).exit_code != 0
    (env / "content" / "taxonomy.yml").unlink()
    result = run("index", "rebuild")
    assert result.exit_code == 1
    assert "taxonomy.yml" in result.output


def test_python_dash_m_kb_runs(env):
    proc = subprocess.run([sys.executable, "-m", "kb", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "import" in proc.stdout


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not beside this checkout")
@pytest.mark.slow
def test_import_of_the_whole_shared_corpus(env):
    run("init")
    result = run("import", str(CORPUS))
    assert result.exit_code == 0, result.output[-2000:]
    assert "743 added, 0 unchanged, 0 with errors" in result.output
    again = run("import", str(CORPUS))
    assert "0 added, 743 unchanged, 0 with errors" in again.output
    assert "matches" in run("index", "check").output
