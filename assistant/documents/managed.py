"""The index's own documents and the operator's choices kept beside them, changed as one
transaction with the build that makes them live.

    INDEX/documents/     copies `corpus add` made (ours: the only documents we ever delete)
    INDEX/excluded.json  operator documents left out of the index (`corpus remove` of a file not ours)
    INDEX/versions.json  {"keep": [work titles]}: works whose versions all stay live (--keep-both)
    INDEX/change.json    the change under way (a journal), while there is one
    INDEX/staging/       files on their way into documents/, and the copies an add replaces,
                         until the change is live

A change runs under the index lock (assistant/store/index.py): decided and checked first, then
journaled, its files put in place and the new build made. Only once the new build is live
(CURRENT names it) are the choices written and our copies deleted (commit). Whatever stops it
before that — a refused or failed build, a full disk, a kill -9 — is undone (rollback), at once or
by the next change that takes the lock: a refused command leaves no trace.

Nothing here imports the index module: it reads CURRENT itself.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)
JOURNAL = "change.json"
STAGING = "staging"
EXCLUDED = "excluded.json"
VERSIONS = "versions.json"
_PREVIOUS = ".previous"  # a replaced copy's name in staging/


@dataclass
class Change:
    before: str | None = None  # the live build when the change began
    place: list[str] = field(default_factory=list)  # names put into documents/
    existed: list[str] = field(default_factory=list)  # of those, names that had a copy there before
    drop: list[str] = field(default_factory=list)  # our copies to delete once live
    exclude: list[str] = field(default_factory=list)  # operator documents to leave out once live
    include: list[str] = field(default_factory=list)  # documents no longer left out once live
    keep_versions: list[str] = field(default_factory=list)  # works whose versions all stay live
    keep_all_versions: bool = False


def documents_dir(index_dir: Path) -> Path:
    return index_dir / "documents"


def _live(index_dir: Path) -> str | None:
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _read_json(path: Path, default):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        log.warning("%s 无法读取（%s），按空处理", path, exc)
        return default


def _write_json(path: Path, value) -> None:
    """Whole or not at all: a temporary file, flushed, then renamed over the old one."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(value, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def excluded(index_dir: Path) -> set[str]:
    """Operator documents left out of the index (committed)."""
    return set(_read_json(index_dir / EXCLUDED, []))


def pending(index_dir: Path) -> Change | None:
    data = _read_json(index_dir / JOURNAL, None)
    if not isinstance(data, dict):
        return None
    return Change(**{k: v for k, v in data.items() if k in Change.__dataclass_fields__})


def kept_versions(index_dir: Path) -> set[str] | bool:
    """Works whose versions all stay live: the committed choice and the change under way's; True
    when the change under way keeps every version."""
    keep = set(_read_json(index_dir / VERSIONS, {}).get("keep", []))
    change = pending(index_dir)
    if change is not None:
        if change.keep_all_versions:
            return True
        keep |= set(change.keep_versions)
    return keep


def begin(index_dir: Path, change: Change) -> None:
    """Journal the change before anything of it touches documents/."""
    change.before = _live(index_dir)
    _write_json(index_dir / JOURNAL, asdict(change))


def put_in_place(index_dir: Path, change: Change, files: dict[str, Path]) -> None:
    """Copy files (name in documents/ → source) into documents/ by way of staging/: a copy cut
    short (a full disk) never reaches documents/, and a copy it replaces waits in staging/ until
    the change is live. Copies get the time of the add (not the source's): the file written last
    is the newest version where the documents state no date."""
    managed, staging = documents_dir(index_dir), index_dir / STAGING
    managed.mkdir(exist_ok=True)
    staging.mkdir(exist_ok=True)
    for name, source in files.items():
        target = managed / name
        if target.exists() and source.resolve() == target.resolve():
            continue  # re-adding our own copy: it is already in place
        shutil.copyfile(source, staging / name)
    for name in files:
        if not (staging / name).exists():
            continue
        if name in change.existed and (managed / name).exists():
            os.replace(managed / name, staging / (name + _PREVIOUS))
        os.replace(staging / name, managed / name)


def commit(index_dir: Path, change: Change) -> None:
    """The change's build is live: write the choices, delete the copies it dropped or replaced."""
    kept: list[str] = []
    if change.keep_all_versions:  # index --keep-both: the works the build kept every version of
        build = _live(index_dir) or "-"
        kept = _read_json(index_dir / "builds" / build / "manifest.json", {}).get("kept_versions", [])
    left_out = (excluded(index_dir) | set(change.exclude)) - set(change.include)
    if left_out != excluded(index_dir):
        _write_json(index_dir / EXCLUDED, sorted(left_out))
    if change.keep_versions or kept:
        keep = set(_read_json(index_dir / VERSIONS, {}).get("keep", []))
        _write_json(index_dir / VERSIONS, {"keep": sorted(keep | set(change.keep_versions) | set(kept))})
    managed = documents_dir(index_dir)
    for name in change.drop:
        _our_file(managed, name).unlink(missing_ok=True)
    _finish(index_dir)


def rollback(index_dir: Path, change: Change) -> None:
    """Undo what the change put in place: documents/ as it was, no choice written."""
    managed, staging = documents_dir(index_dir), index_dir / STAGING
    for name in change.place:
        previous = staging / (name + _PREVIOUS)
        if previous.exists():
            os.replace(previous, _our_file(managed, name))
        elif name not in change.existed:
            _our_file(managed, name).unlink(missing_ok=True)
    if change.place and managed.is_dir() and not any(managed.iterdir()):
        managed.rmdir()  # made for this change: not even an empty folder stays
    _finish(index_dir)


def _finish(index_dir: Path) -> None:
    shutil.rmtree(index_dir / STAGING, ignore_errors=True)
    (index_dir / JOURNAL).unlink(missing_ok=True)


def _our_file(managed: Path, name: str) -> Path:
    """A name in documents/, never a path out of it (a journal is data read back from disk)."""
    path = managed / Path(name).name
    if path.parent != managed:
        raise ValueError(f"not a file name: {name!r}")
    return path


def recover(index_dir: Path) -> str | None:
    """Finish or undo a change a killed process left (call under the index lock). Returns what
    was done, in Chinese, or None."""
    change = pending(index_dir)
    if change is None:
        if (index_dir / JOURNAL).exists():  # unreadable: nothing was placed under it yet
            _finish(index_dir)
        elif (index_dir / STAGING).exists():
            shutil.rmtree(index_dir / STAGING, ignore_errors=True)
        return None
    if _live(index_dir) != change.before:
        commit(index_dir, change)
        return "上次中断的文档变更已生效，已补完收尾"
    rollback(index_dir, change)
    return "上次中断的文档变更未生效，已撤销"
