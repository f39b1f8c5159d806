"""The content remote (KB_GIT_REMOTE) when things go wrong or start: a node killed in the middle of a push,
`kb init` cloning the remote or pushing to an empty one, `kb sync`."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import cli

from .conftest import ROOT, git
from .liveserver import site_env
from .test_remote_nodes import (SLUG, api_get, api_put, make_node, remote, remote_log,  # noqa: F401 (fixtures)
                                search_slugs, shared_db_url, token_for, wiki_of)

# A save in a process of its own, killed by SIGKILL right before its push ("before") or right after the remote
# took it ("after"): in both cases it never answered.
KILLED_SAVE = r"""
import os, signal, sys
from types import SimpleNamespace
from kb.history_remote import RemoteHistory
content, index, remote, when, slug, line = sys.argv[1:]
real_push = RemoteHistory.push
def push(self, lease=None):
    if when == "after":
        real_push(self, lease)
    os.kill(os.getpid(), signal.SIGKILL)
RemoteHistory.push = push
from kb.wiki import Wiki
wiki = Wiki(content, index, "", remote)
user = SimpleNamespace(is_authenticated=True, active=True, username="moussa", role="focal_point", regions=["Sahel"])
note = wiki.get_note(user, slug)
wiki.save(user, slug, note.meta, note.body + "\n" + line + "\n", wiki.revision_of(slug))
print("answered")
"""


def killed_save(app, remote: Path, when: str, line: str) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(app.config["KB_CONTENT_DIR"]),
                           str(app.config["KB_INDEX_DIR"]), str(remote), when, SLUG, line],
        capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert "answered" not in proc.stdout


def commits_adding(remote: Path, text: str) -> list[str]:
    return git(remote, "log", "--format=%H", f"-S{text}", "main").split()


def test_a_commit_left_unpushed_by_a_killed_node_is_replayed_on_top_and_pushed_on_restart(make_node, remote):
    a, b = make_node("a"), make_node("b")
    killed_save(a, remote, "before", "Line from the killed node.")
    assert commits_adding(remote, "Line from the killed node.") == []  # it never reached the remote
    token = token_for(b, "moussa")
    note = api_get(b.test_client(), token, SLUG)
    first, rest = note["body"].split("\n", 1)
    assert api_put(b.test_client(), token, SLUG, first + " (from B)\n" + rest, note["revision"]).status_code == 200
    restarted = make_node("a")  # starting again syncs: the unpushed commit is replayed on B's and pushed
    assert len(commits_adding(remote, "Line from the killed node.")) == 1
    assert len(commits_adding(remote, " (from B)")) == 1
    body = api_get(restarted.test_client(), token, SLUG)["body"]
    assert "Line from the killed node." in body and "(from B)" in body
    assert search_slugs(restarted.test_client(), "killed") == [SLUG]
    assert git(Path(a.config["KB_CONTENT_DIR"]), "rev-parse", "HEAD").strip() == remote_log(remote)[0]


def test_a_node_killed_after_the_remote_took_its_push_commits_nothing_twice(make_node, remote):
    a = make_node("a")
    before = remote_log(remote)
    killed_save(a, remote, "after", "Line pushed before the kill.")
    assert len(remote_log(remote)) == len(before) + 1
    restarted = make_node("a")
    assert len(remote_log(remote)) == len(before) + 1  # not pushed, nor replayed, a second time
    assert wiki_of(restarted).sync().before == remote_log(remote)[0]
    assert search_slugs(restarted.test_client(), "kill") == [SLUG]


def test_an_unpushed_commit_that_clashes_is_kept_on_a_branch_and_the_remote_wins(make_node, remote):
    a, b = make_node("a"), make_node("b")
    killed_save(a, remote, "before", "Killed node's last line.")
    token = token_for(b, "moussa")
    note = api_get(b.test_client(), token, SLUG)
    acknowledged = note["body"] + "\nB's acknowledged last line.\n"  # the same place in the text
    assert api_put(b.test_client(), token, SLUG, acknowledged, note["revision"]).status_code == 200
    pulled = wiki_of(a).sync()
    assert pulled.kept.startswith("kb-unpushed-")
    content = Path(a.config["KB_CONTENT_DIR"])
    assert "Killed node's last line." in git(content, "show", f"{pulled.kept}:{SLUG}.md")  # kept for an admin
    assert "B's acknowledged last line." in (content / f"{SLUG}.md").read_text()
    assert commits_adding(remote, "Killed node's last line.") == []
    assert git(content, "rev-parse", "HEAD").strip() == remote_log(remote)[0]


# --- kb init and kb sync ------------------------------------------------------------------------------------

@pytest.fixture
def empty_remote(tmp_path) -> Path:
    bare = tmp_path / "empty.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    return bare


def run(env: dict, *args: str):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_kb_init_pushes_a_new_content_repository_to_an_empty_remote_and_clones_it_on_the_next_node(
        tmp_path, empty_remote):
    first = site_env(tmp_path / "one", KB_GIT_REMOTE=str(empty_remote), KB_ADMIN_PASSWORD="a long password 1")
    result = run(first, "init")
    assert result.exit_code == 0, result.output
    assert "Created the content repository" in result.output
    head = git(tmp_path / "one" / "content", "rev-parse", "HEAD").strip()
    assert remote_log(empty_remote) == [head]  # pushed
    second = site_env(tmp_path / "two", KB_GIT_REMOTE=str(empty_remote), KB_ADMIN_PASSWORD="a long password 2")
    result = run(second, "init")
    assert result.exit_code == 0, result.output
    assert "Cloned the content repository from KB_GIT_REMOTE" in result.output
    assert "Created the content repository" not in result.output
    assert git(tmp_path / "two" / "content", "rev-parse", "HEAD").strip() == head
    assert (tmp_path / "two" / "content" / "taxonomy.yml").read_bytes() == \
        (tmp_path / "one" / "content" / "taxonomy.yml").read_bytes()
    # a note imported on the first node is pushed; `kb sync` on the second pulls and indexes it
    note = tmp_path / "tillaberi.md"
    note.write_text("---\ntitle: Mobile courts in Tillaberi\nlanguage: en\nregions: [Niger]\n---\nZebrafinch.\n")
    assert run(first, "import", str(note)).exit_code == 0
    assert len(remote_log(empty_remote)) == 2
    result = run(second, "sync")
    assert result.exit_code == 0 and "1 note(s) re-indexed" in result.output, result.output
    assert "Up to date" in run(second, "sync").output
    assert run(second, "index", "check").exit_code == 0


def test_kb_init_pushes_an_existing_content_repository_to_an_empty_remote(site, empty_remote):
    env = site_env(site, KB_GIT_REMOTE=str(empty_remote))
    result = run(env, "init")
    assert result.exit_code == 0, result.output
    assert "Pushed the content repository to KB_GIT_REMOTE" in result.output
    assert remote_log(empty_remote) == [git(site / "content", "rev-parse", "HEAD").strip()]


def test_kb_init_and_sync_say_what_to_fix_when_the_remote_is_missing_or_unset(tmp_path, site):
    env = site_env(tmp_path / "one", KB_GIT_REMOTE=str(tmp_path / "nowhere.git"))
    result = run(env, "init")
    assert result.exit_code == 1 and "KB_GIT_REMOTE" in result.output and "cannot be reached" in result.output
    assert not (tmp_path / "one" / "content" / ".git").exists()
    result = run(site_env(site), "sync")
    assert result.exit_code == 1 and "KB_GIT_REMOTE is not set" in result.output
