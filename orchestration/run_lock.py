"""One run at a time per warehouse: an exclusive lock on `<artefacts>/run.lock`.

Two nightly runs on one warehouse used to collide: each re-parsed the shared dbt manifest
while the other read it half-written (orjson.JSONDecodeError after 9 s), or, a second
apart, both ran and every step of both failed on DuckDB's file lock. Now a run first takes
this lock — `cdw run` (also as `cdw chaos` starts it, and for a backfill), and every run the
Dagster daemon or the UI launches, through the `warehouse` resource. A second run either
waits (`--wait SECONDS`, `CDW_RUN_LOCK_WAIT`) or refuses at once, naming the holder: process
id, host, command, Dagster run id, start time. Nothing of the warehouse, its artefacts or
Dagster's history is touched by the run that refuses.

The lock is the kernel's (`flock` through the `filelock` package): it is released when its
process ends, however it ends (SIGKILL, power cut), so a dead run never leaves a stale lock.
Who holds it is written beside it (`run.holder.json`) for the message of the run that
waits or refuses. Within one process the lock is re-entrant: `cdw run` takes it before it
parses the dbt project and reads the warehouse, and the job's `warehouse` resource takes
it again for the run (a no-op that adds the run id to the holder's description).
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

HOLDER_SUFFIX = ".holder.json"


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse (its run lock, or DuckDB's lock on the file)."""


@dataclass(frozen=True)
class Holder:
    """Who holds a run lock, as written beside it."""

    pid: int
    host: str
    command: str
    started_at: str  # ISO 8601, UTC
    warehouse: str
    run_id: str | None = None

    def describe(self, now: datetime | None = None) -> str:
        started = datetime.fromisoformat(self.started_at)
        seconds = int(((now or datetime.now(UTC)) - started).total_seconds())
        run = f", Dagster run {self.run_id}" if self.run_id else ""
        return (
            f"process {self.pid} on {self.host} (`{self.command}`{run}), started "
            f"{started:%Y-%m-%d %H:%M:%S} UTC, {_duration(seconds)} ago"
        )


def _duration(seconds: int) -> str:
    minutes, seconds = divmod(max(seconds, 0), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def holder_path(lock_path: Path) -> Path:
    return lock_path.with_name(lock_path.name.removesuffix(".lock") + HOLDER_SUFFIX)


def read_holder(lock_path: Path) -> Holder | None:
    """The holder written beside the lock, if it is readable and its process is alive."""
    try:
        holder = Holder(**json.loads(holder_path(lock_path).read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if holder.host == socket.gethostname() and not _alive(holder.pid):
        return None  # left by a process that died: not the one holding the lock now
    return holder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_holder(lock_path: Path, holder: Holder) -> None:
    path = holder_path(lock_path)
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    scratch.write_text(json.dumps(asdict(holder)))
    os.replace(scratch, path)  # a reader sees the old description or the new one, whole


def busy_message(warehouse: Path, lock_path: Path, waited: float) -> str:
    holder = read_holder(lock_path)
    who = holder.describe() if holder else "another process (it has not said which yet)"
    waited_text = f" after waiting {waited:.0f} s" if waited else ""
    return (
        f"another run holds the warehouse {warehouse}: {who}. Nothing was done{waited_text}. "
        "Let that run finish and run again, or wait for it: `cdw run --wait SECONDS` "
        f"(or CDW_RUN_LOCK_WAIT). The lock ({lock_path}) goes with its process, so a "
        "killed run never leaves it behind."
    )


@dataclass
class _Held:
    lock: FileLock
    holder: Holder


_registry: dict[str, _Held] = {}
_registry_guard = threading.Lock()


def command_line() -> str:
    """What this process is, for the holder's description (`cdw run --to 2026-11-21`; a
    Dagster run worker is `dagster api execute_run`)."""
    argv = sys.argv or ["python"]
    name = Path(argv[0]).name
    if name in ("cdw", "cli.py"):
        return " ".join(["cdw", *argv[1:]])[:200]
    return " ".join([name, *argv[1:3]])[:200]


@contextmanager
def run_lock(
    lock_path: Path,
    warehouse: Path,
    wait: float = 0.0,
    run_id: str | None = None,
    command: str | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[Holder]:
    """Hold the run lock of `warehouse` for the block; the holder's description.

    Waits up to `wait` seconds for another holder (calling `on_wait` once with what it
    waits for), then raises `WarehouseBusy` naming the holder. Re-entrant within a process
    (a nested call adds `run_id` to the description and returns at once)."""
    key = str(lock_path.resolve())
    with _registry_guard:
        held = _registry.get(key)
        if held is not None and run_id and held.holder.run_id != run_id:
            held.holder = replace(held.holder, run_id=run_id)
            _write_holder(lock_path, held.holder)
    if held is not None:  # this process holds it already (the outer block releases it)
        yield held.holder
        return

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_path, thread_local=False)
    started = time.monotonic()
    try:
        lock.acquire(blocking=False)
    except Timeout:
        if wait <= 0:
            raise WarehouseBusy(busy_message(warehouse, lock_path, 0)) from None
        if on_wait is not None:
            holder = read_holder(lock_path)
            who = holder.describe() if holder else "another process"
            on_wait(f"Waiting up to {wait:.0f} s for the run that holds {warehouse}: {who}")
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            waited = time.monotonic() - started
            raise WarehouseBusy(busy_message(warehouse, lock_path, waited)) from None
    holder = Holder(
        pid=os.getpid(),
        host=socket.gethostname(),
        command=command or command_line(),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        warehouse=str(warehouse),
        run_id=run_id,
    )
    entry = _Held(lock, holder)
    try:
        _write_holder(lock_path, holder)
        with _registry_guard:
            _registry[key] = entry
        yield holder
    finally:
        with _registry_guard:
            _registry.pop(key, None)
        holder_path(lock_path).unlink(missing_ok=True)
        lock.release()


# --- DuckDB's own lock: another process has the warehouse file open --------------------

_DUCKDB_LOCK = re.compile(
    r"Could not set lock on file .*Conflicting lock is held in "
    r"(?P<program>.+?) \(PID (?P<pid>\d+)\)"
)


def duckdb_lock_holder(error: BaseException) -> tuple[int, str] | None:
    """(pid, program) of the process DuckDB names when it cannot lock the file; None when
    `error` is not that."""
    if not isinstance(error, duckdb.IOException):
        return None
    found = _DUCKDB_LOCK.search(str(error))
    if not found:
        return None
    return int(found["pid"]), found["program"]


def _process_description(pid: int, program: str) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        command = " ".join(" ".join(a.decode(errors="replace").split()) for a in argv if a)
        command = command[:160] + ("…" if len(command) > 160 else "")
    except OSError:
        command = ""
    return f"process {pid} ({command or program})"


def file_busy_message(warehouse: Path, error: BaseException, lock_path: Path | None = None) -> str:
    """What to tell the user when DuckDB cannot open `warehouse` because another process
    holds it (`error` from duckdb.connect)."""
    pid, program = duckdb_lock_holder(error) or (0, "another process")
    run = read_holder(lock_path) if lock_path is not None else None
    if run is not None and run.pid == pid:
        who = f"a run of this warehouse: {run.describe()}"
    else:
        who = _process_description(pid, program) if pid else program
    return (
        f"the warehouse file {warehouse} is held by another process — {who}. DuckDB lets "
        "one process at a time open a file for writing, and no other process read it "
        "meanwhile: a notebook, DuckDB shell or BI tool with the file open blocks the "
        "nightly run. Close that connection (or end that process) and run again."
    )


def wait_for_file(
    warehouse: Path,
    wait: float = 0.0,
    lock_path: Path | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> None:
    """Return once this process can open `warehouse` for writing (or it does not exist);
    raise `WarehouseBusy` when another process still holds it after `wait` seconds. Call
    it with no connection to the file open in this process."""
    deadline = time.monotonic() + wait
    told = False
    while warehouse.exists():
        try:
            duckdb.connect(str(warehouse)).close()
            return
        except duckdb.IOException as error:
            if duckdb_lock_holder(error) is None:
                raise
            if time.monotonic() >= deadline:
                raise WarehouseBusy(file_busy_message(warehouse, error, lock_path)) from None
            if on_wait is not None and not told:
                on_wait(f"Waiting up to {wait:.0f} s: {file_busy_message(warehouse, error)}")
                told = True
            time.sleep(min(1.0, max(deadline - time.monotonic(), 0.05)))
