"""A real server for browser journeys, fault tests and benchmarks: gunicorn on a loopback socket.

The socket is bound here and handed to gunicorn (`--bind fd://N`), so there is no window in which another
process could take the port. gunicorn runs in its own process group; stop() ends the whole group.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run gunicorn through a one-line launcher that asks Linux to send it SIGTERM when the process that started
# it dies (prctl PR_SET_PDEATHSIG survives exec): a killed test run leaves no server behind.
_LAUNCH = ("import ctypes, os, sys; ctypes.CDLL(None).prctl(1, 15); "
           "os.execv(sys.executable, [sys.executable, '-m', 'gunicorn', *sys.argv[1:]])")


def site_env(root: Path, **extra: str) -> dict[str, str]:
    """The environment a kb server on the site at ``root`` (content/, index/, instance/) runs with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update(KB_CONTENT_DIR=str(root / "content"), KB_INDEX_DIR=str(root / "index"),
               KB_INSTANCE_DIR=str(root / "instance"), PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


class Server:
    """gunicorn serving ``app`` (e.g. "kb.wsgi:app") on 127.0.0.1, started by start(), ended by stop()."""

    def __init__(self, env: dict[str, str], app: str = "kb.wsgi:app", workers: int = 2,
                 python: str = sys.executable, cwd: Path = ROOT, log: Path | None = None,
                 extra_args: tuple[str, ...] = ()):
        self.env, self.app, self.workers, self.python, self.cwd = env, app, workers, python, cwd
        self.log = log
        self.extra_args = extra_args
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.started_in = 0.0  # seconds from launch to the first 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/", timeout: float = 90.0) -> "Server":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        fd = sock.fileno()
        os.set_inheritable(fd, True)
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        cmd = [self.python, "-c", _LAUNCH, "--bind", f"fd://{fd}", "--workers", str(self.workers),
               "--timeout", "60", "--graceful-timeout", "5", *self.extra_args, self.app]
        began = time.monotonic()
        try:
            self.proc = subprocess.Popen(cmd, cwd=self.cwd, env=self.env, pass_fds=(fd,), stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        finally:
            sock.close()  # gunicorn holds its own copy
            if out is not subprocess.DEVNULL:
                out.close()
        try:
            self.wait_ready(ready_path, timeout)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - began
        return self

    def wait_ready(self, path: str = "/", timeout: float = 90.0) -> None:
        """Wait until the server answers 200 on ``path`` (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode} before it was ready"
                                   + self._log_tail())
            try:
                with urllib.request.urlopen(self.url + path, timeout=5) as resp:
                    if resp.status == 200:
                        return
                    last = f"HTTP {resp.status}"
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            time.sleep(0.1)
        raise RuntimeError(f"the server was not ready after {timeout:.0f} s ({last})" + self._log_tail())

    def _log_tail(self) -> str:
        if not self.log or not Path(self.log).exists():
            return ""
        return "\n" + Path(self.log).read_text(encoding="utf-8", errors="replace")[-3000:]

    def worker_pids(self) -> list[int]:
        """The gunicorn workers' process ids (children of the master), from /proc."""
        if self.proc is None:
            return []
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    stat = (entry / "stat").read_text()
                    if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                        pids.append(int(entry.name))
        return sorted(pids)

    def stop(self) -> None:
        """End the whole process group: SIGTERM, then SIGKILL after a few seconds."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # stragglers of the group (workers) go too

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def rss_kib(pid: int) -> int:
    """Resident memory of a process in KiB (VmRSS from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
