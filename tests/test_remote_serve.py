"""Two real servers (gunicorn, two worker processes each) over one content remote: what a deployment behind a
reverse proxy does. Writers on both, retrying on 409, lose nothing; each node's background pull brings what
the other saved to its search."""
from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kb.users import UserStore
from kb.wiki import join_remote

from .conftest import git
from .liveserver import Server, site_env
from .test_api_write import _request
from .test_remote_nodes import SECRET, SLUG, remote, remote_log, shared_db_url  # noqa: F401 (fixtures)


def node_env(site: Path, root: Path, remote: Path, db_url: str) -> dict:
    join_remote(root / "content", str(remote))
    shutil.copytree(site / "index", root / "index")
    return site_env(root, KB_GIT_REMOTE=str(remote), KB_DATABASE_URL=db_url, KB_SECRET_KEY=SECRET,
                    KB_SYNC_SECONDS="0.5")


def test_two_servers_twenty_writers_retrying_on_conflicts_lose_nothing(site, remote, shared_db_url, tmp_path):
    users = UserStore(shared_db_url)
    token = users.create_token("moussa", "test")[1]
    users.dispose()
    envs = [node_env(site, tmp_path / name, remote, shared_db_url) for name in ("a", "b")]
    before = remote_log(remote)
    with Server(envs[0], workers=2, extra_args=("--threads", "2")).start(f"/notes/{SLUG}") as a, \
            Server(envs[1], workers=2, extra_args=("--threads", "2")).start(f"/notes/{SLUG}") as b:
        ports = [a.port, b.port]
        status, note = _request(ports[0], "GET", f"/api/notes/{SLUG}", token)
        start_base, start_body = note["revision"], note["body"]
        barrier = threading.Barrier(20)

        def writer(i):
            """Append my own line from the base I saw, on node A or B; on 409 read the note again and retry."""
            port, base, body, first = ports[i % 2], start_base, start_body, None
            barrier.wait()
            for _ in range(80):
                status, answer = _request(port, "PUT", f"/api/notes/{SLUG}", token,
                                          {"body": body + f"\nLine from writer {i}.\n", "base_revision": base})
                first = first or status
                if status == 200:
                    return first
                assert status == 409, answer
                got, note = _request(port, "GET", f"/api/notes/{SLUG}", token)
                assert got == 200, (got, note)  # a read never fails while the nodes write and pull
                base, body = note["revision"], note["body"]
            raise AssertionError("writer never got through")

        with ThreadPoolExecutor(20) as pool:
            firsts = list(pool.map(writer, range(20)))
        assert firsts.count(200) == 1  # twenty writers from one base: one success at the first try
        after = remote_log(remote)
        assert len(after) == len(before) + 20  # every acknowledged save is on the remote, once
        text = git(remote, "show", f"main:{SLUG}.md")
        assert all(f"Line from writer {i}." in text for i in range(20))
        # each node's background pull brings the other's last save to its search
        for _ in range(10):  # node A may not have pulled B's last saves yet: a 409, read again
            _, note = _request(ports[0], "GET", f"/api/notes/{SLUG}", token)
            status, _ = _request(ports[0], "PUT", f"/api/notes/{SLUG}", token,
                                 {"body": note["body"] + "\nThe kiwiplum line.\n", "base_revision": note["revision"]})
            if status != 409:
                break
        assert status == 200
        deadline = time.monotonic() + 60  # a bound for a loaded machine, not a speed assertion
        found = []
        while time.monotonic() < deadline and not found:
            status, results = _request(ports[1], "GET", "/api/search?q=kiwiplum", token)
            found = [hit["slug"] for hit in results["hits"]] if status == 200 else []
            time.sleep(0.2)
        assert found == [SLUG]
