"""The first start and the checks before a start: the three folders, the default taxonomy, and one line
saying what to fix when the configuration is wrong (no Flask; used by `kb init`, `kb serve` and the CLI)."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .db import DatabaseFailure
from .errors import ConfigError, KbError

DEFAULT_TAXONOMY = Path(__file__).resolve().parent / "default_taxonomy.yml"
FOLDERS = (("KB_CONTENT_DIR", "content"), ("KB_INDEX_DIR", "index"), ("KB_INSTANCE_DIR", "instance"))


def check_folder(setting: str, path: Path, create: bool = True) -> bool:
    """Make sure ``path`` is a folder kb can write in (creating it when asked); True when it was created.

    Writing is tried for real (a file created and removed), since permission bits do not tell the whole
    story (root, read-only mounts, immutable folders)."""
    path = Path(path)
    created = False
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{setting} is {path}, which is a file, not a folder: point {setting} at a folder.")
    if not path.exists():
        if not create:
            raise ConfigError(f"{setting} is {path}, which does not exist: run `kb init` first.")
        try:
            path.mkdir(parents=True)
            created = True
        except FileExistsError:
            pass
        except OSError as exc:
            raise ConfigError(f"{setting} is {path}, which cannot be created ({_reason(exc)}): "
                              f"create it, or point {setting} elsewhere.") from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".kb-write-check-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"{setting} is {path}, which kb cannot write in ({_reason(exc)}): make it writable "
                          "for the account running kb, or point it elsewhere.") from None
    return created


def check_folders(config: dict, create: bool = True) -> list[str]:
    """Check (and create when asked) the content, index and instance folders; what was created, as lines."""
    done = []
    for setting, what in FOLDERS:
        if check_folder(setting, config[setting], create=create):
            done.append(f"Created the {what} folder {config[setting]}")
    return done


def install_default_taxonomy(content_dir: Path) -> bool:
    """Put the default taxonomy.yml in a content folder that has none; True when it did."""
    target = Path(content_dir) / "taxonomy.yml"
    if target.exists() or target.is_symlink():
        return False
    try:
        tmp = target.with_name(".taxonomy.yml.tmp")
        shutil.copyfile(DEFAULT_TAXONOMY, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        raise ConfigError(f"Cannot write {target} ({_reason(exc)}): make KB_CONTENT_DIR writable.") from None
    return True


def _reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def one_line(exc: BaseException, config: dict | None = None) -> str:
    """What went wrong, on one line, for a person to fix: no traceback, no Python class names when avoidable."""
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        fix = ""
        for setting, _what in FOLDERS:  # name the setting whose folder it is
            folder = (config or {}).get(setting) or os.environ.get(setting)
            if exc.filename and _inside(exc.filename, folder):
                fix = f" (in {setting})"
        text = f"Cannot use{where}{fix}: {_reason(exc)}"
    elif isinstance(exc, DatabaseFailure):
        reason = one_line(getattr(exc, "orig", None) or Exception(str(exc)))
        text = f"KB_DATABASE_URL: the database failed ({reason}): check that it is reachable and writable."
    else:
        text = str(exc) or exc.__class__.__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else exc.__class__.__name__


def _inside(filename, folder: str | None) -> bool:
    if not folder:
        return False
    try:
        return Path(os.fsdecode(filename)).resolve().is_relative_to(Path(folder).expanduser().resolve())
    except (OSError, ValueError):
        return False


HANDLED = (KbError, OSError, DatabaseFailure)
