"""Where ensembles run: executor parsing, the Numba-thread budget, worker processes, faults.

Both :func:`chargetransport.ensemble_average` and :class:`chargetransport.LockstepEnsemble`
use this module, so that an ``executor`` argument means the same thing to both, worker
processes start one way (:class:`ProcessPool`) and the cores are shared one way between
worker processes and their Numba threads (:func:`numba_budget`).

Faults. A worker process that dies (a segfault, the out-of-memory killer, ``os._exit``)
breaks a ``concurrent.futures.ProcessPoolExecutor``: every task it held fails with
``BrokenProcessPool``. :class:`ProcessPool` can replace its executor by a fresh one, and
:func:`run_ordered` resubmits the lost tasks there, at most ``max_retries`` times each;
tasks lost once are rerun one at a time, so that a task that kills its worker is told
apart from the tasks that were lost with it. Dask reschedules the tasks of a dead
worker itself (up to its ``distributed.scheduler.allowed-failures``, then
``KilledWorker``). An exception raised by the task's own code is a different matter
(a bug, or bad input: rerunning gives the same exception): workers return it as a
:class:`RaisedInTask`, never retried, and the caller re-raises it with the remote
traceback as a note.
"""
from __future__ import annotations

import asyncio
import collections
import concurrent.futures as cf
import contextlib
import dataclasses
import multiprocessing
import os
import pickle
import traceback

from ._validation import check_int

__all__ = []

# Tasks in flight per worker: enough to keep every worker busy while the calling
# process merges, few enough that buffered out-of-order results stay negligible.
TASKS_PER_WORKER = 4


# --------------------------------------------------------------------------------------
# Cores and Numba threads
# --------------------------------------------------------------------------------------
def usable_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def check_numba_threads(numba_threads):
    if numba_threads is None:
        return None
    import numba
    return check_int("numba_threads", numba_threads, minimum=1,
                     maximum=numba.config.NUMBA_NUM_THREADS)


def numba_budget(num_workers, numba_threads=None):
    """Numba threads per worker: as asked, else the usable cores shared by the workers."""
    return max(1, usable_cpus() // num_workers) if numba_threads is None else numba_threads


def set_numba_threads(num_threads):
    """Set this thread's Numba thread count (a no-op for ``None``)."""
    if num_threads is None:
        return
    import numba
    numba.set_num_threads(max(1, min(int(num_threads), numba.config.NUMBA_NUM_THREADS)))


@contextlib.contextmanager
def numba_threads_scope(num_threads):
    """Use ``num_threads`` Numba threads in this thread for a while (``None``: unchanged)."""
    if num_threads is None:
        yield
        return
    import numba
    previous = numba.get_num_threads()
    set_numba_threads(num_threads)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


# --------------------------------------------------------------------------------------
# Pickling, and exceptions raised by the task's own code
# --------------------------------------------------------------------------------------
def dumps(obj, name):
    """Pickle with cloudpickle when available (functions defined in a notebook)."""
    try:
        import cloudpickle
        pickler = cloudpickle.dumps
    except ImportError:  # pragma: no cover - cloudpickle comes with dask
        pickler = pickle.dumps
    try:
        return pickler(obj)
    except Exception as exc:
        raise TypeError(f"'{name}' must be picklable to run on other processes: define it at "
                        "module level (functools.partial of a module-level function), "
                        f"or use executor='serial' ({type(exc).__name__}: {exc})") from exc


# Unpickled callables, keyed by their pickle, so that a worker unpickles a function (and
# the arrays a partial binds) once per run, not once per task.
_LOADED = {}


def loads(payload):
    """The object pickled in ``payload`` (bytes), or ``payload`` itself if it is not bytes."""
    if not isinstance(payload, bytes):
        return payload
    obj = _LOADED.get(payload)
    if obj is None:
        obj = pickle.loads(payload)
        _LOADED.clear()
        _LOADED[payload] = obj
    return obj


def annotate(exc, message):
    if hasattr(exc, "add_note"):
        exc.add_note(message)


class RaisedInTask:
    """An exception raised by a task's own code in a worker, returned instead of raised."""

    def __init__(self, exc):
        self.traceback = "".join(traceback.format_exception(exc))
        try:
            pickle.dumps(exc)
            self.exc = exc
        except Exception:
            self.exc = RuntimeError(f"{type(exc).__name__}: {exc}")

    def reraise(self, where="in a worker process"):
        annotate(self.exc, f"{where}:\n{self.traceback}")
        raise self.exc


def guarded(fn, *args):
    """``fn(*args)``, or a :class:`RaisedInTask` if it raises."""
    try:
        return fn(*args)
    except Exception as exc:
        return RaisedInTask(exc)


def unwrap(result, where="in a worker process"):
    """The result of :func:`guarded`, re-raising what the task raised."""
    if isinstance(result, RaisedInTask):
        result.reraise(where)
    return result


# --------------------------------------------------------------------------------------
# Worker processes
# --------------------------------------------------------------------------------------
def mp_context():
    """forkserver where available (a fork of a clean server: fast, and safe with the
    OpenMP/TBB threads of Numba, unlike fork), else spawn."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    try:  # preload the package in the server, keeping any preload already asked for
        from multiprocessing import forkserver
        current = list(getattr(forkserver._forkserver, "_preload_modules", None) or [])
    except Exception:  # pragma: no cover - private API changed
        current = []
    if "chargetransport" not in current:
        ctx.set_forkserver_preload(current + ["chargetransport"])
    return ctx


class ProcessPool(cf.Executor):
    """A local process pool that can replace itself after a worker process died.

    A ``concurrent.futures.ProcessPoolExecutor`` (workers started by ``forkserver``,
    ``spawn`` where unavailable, never by a plain ``fork`` of a process whose Numba
    threads run) whose workers use ``numba_threads`` Numba threads each. When a worker
    dies the executor is broken for good; :meth:`restart` starts a fresh one in its
    place, so that the pool object stays usable.
    """

    # The name under which an ensemble reports having run on it.
    executor_name = "ProcessPoolExecutor"

    def __init__(self, max_workers, numba_threads):
        self.max_workers, self.numba_threads = max_workers, numba_threads
        self.restarts = 0
        self._pool = self._start()

    def _start(self):
        return cf.ProcessPoolExecutor(self.max_workers, mp_context=mp_context(),
                                      initializer=set_numba_threads,
                                      initargs=(self.numba_threads,))

    def submit(self, fn, /, *args, **kwargs):
        return self._pool.submit(fn, *args, **kwargs)

    def restart(self):
        """Replace the (broken) executor by a fresh one; its tasks are lost."""
        broken, self._pool = self._pool, self._start()
        self.restarts += 1
        broken.shutdown(wait=True, cancel_futures=True)

    def shutdown(self, wait=True, *, cancel_futures=False):
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def close(self, timeout=10.0):
        """Shut down, terminating the workers still busy after ``timeout`` seconds (a task
        that an interrupted caller no longer waits for)."""
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(timeout)
            if process.is_alive():  # pragma: no cover - a hung worker
                process.terminate()
                process.join()

    def __repr__(self):
        return f"ProcessPool(max_workers={self.max_workers}, numba_threads={self.numba_threads})"


def start_process_pool(max_workers=None, numba_threads=None):
    """A :class:`ProcessPool` of ``max_workers`` (default: the usable cores)."""
    max_workers = usable_cpus() if max_workers is None else max_workers
    return ProcessPool(max_workers, numba_budget(max_workers, numba_threads))


# --------------------------------------------------------------------------------------
# Dask
# --------------------------------------------------------------------------------------
def is_dask_client(obj):
    cls = type(obj)
    return cls.__name__ == "Client" and cls.__module__.split(".")[0] == "distributed"


def current_dask_client():
    try:
        import distributed
    except ImportError as exc:
        raise ImportError("executor='dask' needs dask.distributed, an optional dependency: "
                          "pip install 'chargetransport[dask]'") from exc
    try:
        return distributed.get_client()
    except ValueError as exc:
        raise ValueError("executor='dask' uses the current dask.distributed Client, and there "
                         "is none: create one first (Client(LocalCluster()) or "
                         "Client('tcp://scheduler:8786')), or pass the Client itself") from exc


def _worker_host(address):
    return address.split("://")[-1].rsplit(":", 1)[0]


def dask_numba_threads(client, numba_threads=None):
    """Numba threads per Dask worker address: as asked, else the host's cores shared by
    the Dask threads on it."""
    nthreads = client.nthreads()
    if numba_threads is not None:
        return dict.fromkeys(nthreads, numba_threads)
    cpus = client.run(usable_cpus)
    per_host = collections.Counter()
    for address, n in nthreads.items():
        per_host[_worker_host(address)] += n
    return {address: max(1, cpus.get(address, 1) // per_host[_worker_host(address)])
            for address in nthreads}


def _in_dask_worker(fn, task, numba_threads):
    from distributed import get_worker
    set_numba_threads(numba_threads.get(get_worker().address, 1))
    return guarded(fn, task)


# --------------------------------------------------------------------------------------
# The executor argument
# --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ExecutorChoice:
    """What an ``executor`` argument asks for.

    ``kind`` is ``"serial"``, ``"processes"``, ``"auto"``, ``"dask"`` (``target``: the
    Client) or ``"futures"`` (``target``: a caller's ``concurrent.futures.Executor``).
    """

    kind: str
    target: object = None
    max_workers: int = None


def parse_executor(executor, max_workers, *, lockstep=False):
    """Check ``executor`` and ``max_workers``; one place for both kinds of ensembles.

    ``lockstep=True``: no ``"auto"`` and no ``concurrent.futures.Executor`` (the states
    need dedicated workers), and ``max_workers`` also bounds the Dask actors.
    """
    forms = ("'serial', 'processes', 'dask' or a dask.distributed.Client" if lockstep else
             "'serial', 'processes', 'auto', 'dask', a concurrent.futures.Executor or a "
             "dask.distributed.Client")
    if max_workers is not None:
        max_workers = check_int("max_workers", max_workers, minimum=1)
    if is_dask_client(executor) or (isinstance(executor, str) and executor == "dask"):
        if max_workers is not None and not lockstep:
            raise ValueError("'max_workers' applies to executor='processes' or 'auto'; the size "
                             "of an executor object is set where it is created")
        client = current_dask_client() if isinstance(executor, str) else executor
        return ExecutorChoice("dask", client, max_workers)
    if isinstance(executor, str):
        kinds = ("serial", "processes") if lockstep else ("serial", "processes", "auto")
        if executor not in kinds:
            raise ValueError(f"'executor' must be {forms}, got {executor!r}")
        return ExecutorChoice(executor, None, max_workers)
    if not lockstep and isinstance(executor, cf.Executor):
        if max_workers is not None:
            raise ValueError("'max_workers' applies to executor='processes' or 'auto'; the size "
                             "of an executor object is set where it is created")
        return ExecutorChoice("futures", executor)
    raise TypeError(f"'executor' must be {forms}, got {type(executor).__name__}")


# --------------------------------------------------------------------------------------
# Back-ends for independent tasks, and the ordered, fault-tolerant loop over them
# --------------------------------------------------------------------------------------
class TasksFailed(Exception):
    """Tasks that could not be completed (internal; the ensembles turn it into a public error).

    Attributes: ``failed`` (the tasks), ``completed`` (results finished but not yet
    yielded, in task order), ``reason`` (a sentence) and ``__cause__`` (the last error).
    """

    def __init__(self, failed, completed, reason):
        super().__init__(reason)
        self.failed, self.completed, self.reason = failed, completed, reason


class SerialBackend:
    """Tasks run here, in order."""

    name, num_workers, inline, resubmitted = "serial", 1, True, 0

    def __init__(self, numba_threads=None):
        self.numba_threads = numba_threads

    def run(self, fn, task):
        with numba_threads_scope(self.numba_threads):
            return fn(task)

    def close(self):
        pass


class PoolBackend:
    """A ``concurrent.futures`` executor: a :class:`ProcessPool` (ours or the caller's,
    replaced when a worker dies) or any other executor of the caller's."""

    inline, resubmitted = False, 0

    def __init__(self, executor, *, owned, name=None, numba_threads=None):
        self.executor, self.owned = executor, owned
        self.name = name or getattr(executor, "executor_name", type(executor).__name__)
        self.num_workers = (getattr(executor, "max_workers", None)
                            or getattr(executor, "_max_workers", None) or usable_cpus())
        # a ProcessPool sets its workers' threads when it starts them
        self.numba_threads = numba_threads
        self.restartable = isinstance(executor, ProcessPool)

    def submit(self, fn, task):
        return self.executor.submit(_in_pool_worker, fn, task, self.numba_threads)

    @staticmethod
    def wait(pending):
        return cf.wait(pending, return_when=cf.FIRST_COMPLETED)[0]

    @staticmethod
    def triage(futures):
        return futures

    @staticmethod
    def has_failed(future):
        return False

    def outcome(self, future):
        """``("ok", result)``, ``("lost", exc)`` (the worker died), ``("failed", exc)`` or
        ``("pending", None)`` (not done after all)."""
        exc = future.exception()
        if exc is None:
            return "ok", unwrap(future.result())
        if isinstance(exc, cf.BrokenExecutor):
            return ("lost" if self.restartable else "failed"), exc
        raise exc  # e.g. a task that could not be pickled: a bug, not a fault

    def recover(self):
        self.executor.restart()

    @staticmethod
    def cancel(pending):
        for future in pending:
            future.cancel()

    def close(self):
        if self.owned:
            self.executor.shutdown(wait=True, cancel_futures=True)


def _in_pool_worker(fn, task, numba_threads):
    set_numba_threads(numba_threads)
    return guarded(fn, task)


class DaskBackend:
    """A ``dask.distributed`` Client; Dask reschedules the tasks of dead workers itself."""

    inline, resubmitted = False, 0

    def __init__(self, client, numba_threads=None, max_retries=0):
        import distributed
        self._distributed, self.client = distributed, client
        nthreads = client.nthreads()
        self.num_workers = max(1, sum(nthreads.values()))
        self.name = f"dask ({len(nthreads)} workers, {self.num_workers} threads)"
        self._threads = dask_numba_threads(client, numba_threads)
        self._retries = max_retries
        self._gathers = collections.Counter()

    def submit(self, fn, task):
        return self.client.submit(_in_dask_worker, fn, task, self._threads, pure=False,
                                  retries=self._retries)

    def wait(self, pending):
        return self._distributed.wait(list(pending), return_when="FIRST_COMPLETED").done

    @staticmethod
    def triage(futures):
        """Failures first: gathering a result that died with its worker waits for Dask to
        recompute it, which a run that fails anyway need not wait for."""
        return sorted(futures, key=lambda future: future.status == "finished")

    @staticmethod
    def has_failed(future):
        return future.status in ("error", "cancelled")

    def outcome(self, future):
        if future.status == "finished":
            # If its worker died since, Dask recomputes the result and result() waits for
            # that: give up after a while (1 s, then 2 s, ...) and wait for the others too.
            attempts = self._gathers[future.key]
            try:
                result = future.result(timeout=2.0**attempts)
            except TimeoutError:
                self._gathers[future.key] += 1
                return "pending", None
            except (Exception, asyncio.CancelledError) as exc:
                return "failed", exc
            return "ok", unwrap(result)
        if future.status in ("error", "cancelled"):  # KilledWorker: its workers kept dying
            try:
                exc = future.exception()
            except (Exception, asyncio.CancelledError) as cancelled:
                exc = cancelled
            return "failed", exc
        return "pending", None  # its result was lost with a worker: Dask recomputes it

    def cancel(self, pending):
        if pending:
            self.client.cancel(list(pending))

    def close(self):
        pass


def make_backend(choice, numba_threads=None, max_retries=0):
    """The back-end of an :class:`ExecutorChoice` (``"auto"`` resolved by the caller)."""
    if choice.kind == "serial":
        return SerialBackend(numba_threads)
    if choice.kind == "processes":
        return PoolBackend(start_process_pool(choice.max_workers, numba_threads), owned=True,
                           name="processes")
    if choice.kind == "futures":
        return PoolBackend(choice.target, owned=False, numba_threads=numba_threads)
    return DaskBackend(choice.target, numba_threads, max_retries)


def run_ordered(backend, fn, tasks, *, max_retries=0, on_done=None):
    """Yield ``fn(task)`` for each of ``tasks`` (an iterable, read lazily), in task order.

    At most ``TASKS_PER_WORKER`` times the back-end's workers tasks are submitted and
    not yet yielded, so that memory stays bounded whatever the number of tasks.
    ``on_done(result)`` is called as each task completes (in completion order).

    A task lost with its worker is resubmitted after the back-end recovered, up to
    ``max_retries`` times; then :class:`TasksFailed` is raised. Every task in flight when
    a pool broke counts as lost (a pool does not say whose worker died); the lost tasks
    are rerun one at a time, so that the others are cleared by their next run and only
    the task that kills its worker exhausts its retries. Exceptions raised by ``fn``
    itself are re-raised at once.
    """
    if backend.inline:
        for task in tasks:
            result = backend.run(fn, task)
            if on_done is not None:
                on_done(result)
            yield result
        return
    window = TASKS_PER_WORKER * backend.num_workers
    tasks = iter(tasks)
    pending = {}                # future -> (sequence number, task)
    rerun = []                  # (sequence number, task) lost with a worker, to resubmit
    losses = collections.Counter()
    done = {}                   # sequence number -> result, completed but not yet yielded
    submitted = yielded = 0
    exhausted = False
    try:
        while True:
            if rerun and not any(seq in losses for seq, _ in pending.values()):
                seq, task = rerun.pop(0)
                pending[backend.submit(fn, task)] = (seq, task)
            while not exhausted and submitted - yielded < window:
                task = next(tasks, _END)
                if task is _END:
                    exhausted = True
                    break
                pending[backend.submit(fn, task)] = (submitted, task)
                submitted += 1
            while yielded in done:
                result = done.pop(yielded)
                yielded += 1
                yield result
            if exhausted and yielded == submitted:
                return
            if not pending:
                continue  # only lost tasks left: the next round submits one
            lost = []
            for future in backend.triage(backend.wait(pending)):
                seq, task = pending.pop(future)
                kind, value = backend.outcome(future)
                if kind == "ok":
                    done[seq] = value
                    if on_done is not None:
                        on_done(value)
                elif kind == "lost":
                    lost.append((seq, task))
                    cause = value
                elif kind == "pending":
                    pending[future] = (seq, task)
                else:  # and any other task that failed by now (the same dead workers)
                    failed = [(seq, task)] + [item for other, item in pending.items()
                                              if backend.has_failed(other)]
                    raise TasksFailed([task for _, task in sorted(failed, key=_first)],
                                      [done[s] for s in sorted(done)],
                                      f"the executor failed with {type(value).__name__}: "
                                      f"{value}") from value
            if lost:
                # the broken pool takes every task it held down with it
                for future, (seq, task) in list(pending.items()):
                    if future.done() and future.exception() is None:
                        done[seq] = unwrap(future.result())
                        if on_done is not None:
                            on_done(done[seq])
                    else:
                        lost.append((seq, task))
                pending.clear()
                for seq, _ in lost:
                    losses[seq] += 1
                failed = [task for seq, task in sorted(lost) if losses[seq] > max_retries]
                if failed:
                    raise TasksFailed(failed, [done[s] for s in sorted(done)],
                                      f"lost with their worker process {max_retries + 1} "
                                      f"time(s) (max_retries={max_retries})") from cause
                backend.recover()
                backend.resubmitted += len(lost)
                rerun = sorted(rerun + lost, key=lambda item: item[0])
    finally:
        backend.cancel(list(pending))


_END = object()


def _first(item):
    return item[0]
