"""A session of a production study: its lock, its executor and the record of where it ran.

What :func:`chargetransport.studies.run_study` needs around the computation itself (the
studies extend the experiments of sections 2-6 of Chen's lectures beyond the book's
budget): an exclusive lock on the study's directory (one run at a time, released if the
process dies), the executor it runs on (serial, a local process pool, or a Dask client,
checked before anything is written), and the session's entry in ``provenance.json``:
UTC time, package versions, git state of the repository, the machine and its instruction
set (which decides whether a recomputation can be equal bit for bit or only to rounding).
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime
import math
import os
import platform
import socket
import subprocess
from pathlib import Path

import numpy as np

from . import _executors as ex
from ._validation import check_int
from .ensemble import process_pool


@contextlib.contextmanager
def _exclusive(directory, name):
    """Hold an exclusive lock on the study's directory (released if the process dies)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no concurrent-run guard
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"study {name!r} is being run by another process "
                               f"(its directory {directory} is locked)") from None
        yield
    finally:
        os.close(fd)


def _locked(directory):
    """Whether a run holds the study's directory now."""
    try:
        with _exclusive(directory, ""):
            return False
    except RuntimeError:
        return True


@contextlib.contextmanager
def _executor_for(executor, max_workers, scheduler):
    """``(executor for ensemble_average, what to record)``; pools and clients started here
    are closed on exit."""
    record = {"requested": executor if isinstance(executor, str) else type(executor).__name__,
              "max_workers": max_workers, "scheduler": scheduler}
    if executor == "serial" or not isinstance(executor, str):
        if ex.is_dask_client(executor):
            record.update(_dask_record(executor))
        yield executor, record
    elif executor == "processes":
        with process_pool(max_workers) as pool:
            yield pool, record
    else:  # "dask"
        import distributed
        with contextlib.ExitStack() as stack:
            if scheduler is not None:
                client = stack.enter_context(distributed.Client(scheduler))
            else:
                try:
                    client = distributed.get_client()
                except ValueError:  # no client yet: a local cluster for this run
                    cluster = stack.enter_context(distributed.LocalCluster(
                        n_workers=max_workers or ex.usable_cpus(), threads_per_worker=1,
                        dashboard_address=":0"))
                    client = stack.enter_context(distributed.Client(cluster))
            record.update(_dask_record(client))
            yield client, record


def _check_executor(executor, max_workers, scheduler):
    """Check the executor arguments of :func:`run_study` before anything is written."""
    if isinstance(executor, str):
        if executor not in ("serial", "processes", "dask"):
            raise ValueError(f"'executor' must be 'serial', 'processes', 'dask' or an executor "
                             f"object, got {executor!r}")
    elif not (ex.is_dask_client(executor) or isinstance(executor, cf.Executor)):
        raise TypeError(f"'executor' must be 'serial', 'processes', 'dask', a "
                        f"concurrent.futures.Executor or a dask.distributed.Client, "
                        f"got {type(executor).__name__}")
    if max_workers is not None:
        max_workers = check_int("max_workers", max_workers, minimum=1)
        if executor not in ("processes", "dask") or scheduler is not None:
            raise ValueError("'max_workers' applies to executor='processes', or 'dask' without "
                             "a scheduler (a local cluster)")
    if scheduler is not None:
        if not isinstance(scheduler, str):
            raise TypeError(f"'scheduler' must be an address such as 'tcp://host:8786', "
                            f"got {type(scheduler).__name__}")
        if executor != "dask":
            raise ValueError(f"'scheduler' needs executor='dask', got executor={executor!r}")
    if executor == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError as exc:
            raise ImportError("executor='dask' needs dask.distributed, an optional dependency: "
                              "pip install 'chargetransport[dask]'") from exc
    return max_workers


def _dask_record(client):
    """The scheduler's address and the hosts of its workers."""
    info = client.scheduler_info()
    return {"scheduler": info.get("address"),
            "worker_hosts": sorted({str(w.get("host", address))
                                    for address, w in info.get("workers", {}).items()})}


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _git_state():
    """Commit of the repository holding the package and whether its sources differ from it."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return {"commit": None, "dirty": None}

    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=30, check=True).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--", "src", "pyproject.toml",
                         "requirements.txt"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def _versions():
    import numba
    import scipy
    from . import __version__
    return {"chargetransport": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__, "scipy": scipy.__version__}


def instruction_set():
    """What decides the rounding of a computation on this machine: the CPU that Numba
    compiles for (LLVM's name of the host CPU) and the SIMD targets NumPy dispatches its
    ufuncs to (``exp``, ``sin``, ... have AVX2 and AVX-512 versions that round differently).
    Two machines with the same values compute a study's realizations bit for bit alike."""
    import llvmlite.binding as llvm
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
        numpy_targets = sorted(f for f in __cpu_dispatch__ if __cpu_features__.get(f))
    except ImportError:  # pragma: no cover - a NumPy without these (private) tables
        numpy_targets = None
    return {"llvm_cpu": llvm.get_host_cpu_name(), "numpy_simd": numpy_targets}


def _stored_here(stored):
    """Whether every session of a stored study ran on this machine's instruction set."""
    here = instruction_set()
    return all(session["machine"].get("instruction_set") == here
               for session in stored.provenance["sessions"])


def _difference(new, old):
    """0 if ``new`` and ``old`` are equal bit for bit, else ``max |new - old|`` over
    ``max(1, max |old|)`` (inf for other shapes, nan where only one is nan)."""
    new, old = np.asarray(new, dtype=float), np.asarray(old, dtype=float)
    if new.shape != old.shape:
        return math.inf
    if new.tobytes() == old.tobytes():
        return 0.0
    scale = max(1.0, float(np.max(np.abs(old), initial=0.0)))
    return float(np.max(np.abs(new - old))) / scale


def _machine():
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        memory = None
    return {"hostname": socket.gethostname(), "cpu_count": os.cpu_count(),
            "usable_cpus": ex.usable_cpus(), "memory_bytes": memory,
            "platform": platform.platform(), "processor": platform.machine(),
            "instruction_set": instruction_set()}
