"""Notifications: collecting 20 note changes for 60 followers, the header count, and `kb notify send` to a
loopback SMTP server (aiosmtpd). Run from the repository root: python benchmarks/notify_bench.py"""
from __future__ import annotations

import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller  # noqa: E402

from kb import create_app  # noqa: E402
from tests.conftest import PASSWORD, build_site, make_content, site_config  # noqa: E402

root = Path(tempfile.mkdtemp())
make_content(root / "content"); build_site(root)
app = create_app({**site_config(root), "KB_BASE_URL": "http://kb.test"})
wiki, users, notifier = (app.extensions[k] for k in ("kb.wiki", "kb.users", "kb.notify"))
readers = []
for i in range(60):
    u = users.add(f"reader{i:02d}", PASSWORD, "practitioner", email=f"r{i}@example.test")
    notifier.subscribe(u, "region", "Sahel", "immediate"); readers.append(u)
moussa = users.by_username("moussa")
for i in range(20):
    meta = wiki.new_meta({"title": f"Bench note {i}", "language": "en", "regions": ["Mali"], "topics": ["mhpss"],
                          "audience": ["ngo"], "visibility": "public", "status": "published", "summary": "s"}, None)
    wiki.save(moussa, f"bench-note-{i}", meta, "Text.\n", None, create=True)
t = time.perf_counter(); n = notifier.collect(); print(f"collect: {n} items from 20 changes x 60 readers in {time.perf_counter()-t:.2f}s")
t = time.perf_counter()
for _ in range(20): notifier.unread_count(readers[0])
print(f"unread_count (20 unread): {(time.perf_counter()-t)/20*1000:.1f} ms")
class H:
    n = 0
    async def handle_DATA(self, s, se, env): H.n += 1; return "250 OK"
with socket.socket() as s: s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
c = Controller(H(), hostname="127.0.0.1", port=port); c.start()
t = time.perf_counter(); r = notifier.send(f"smtp://127.0.0.1:{port}", "kb@example.test"); dt = time.perf_counter()-t
print(f"send: {r.sent} digests (20 items each) in {dt:.2f}s, {dt/r.sent*1000:.0f} ms per e-mail; server got {H.n}")
c.stop(); shutil.rmtree(root)
