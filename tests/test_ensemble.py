"""Tests of chargetransport.ensemble: reduction order, determinism across executors, faults,
checkpoints.

The observables are module-level functions, so that worker processes (a local pool or a
Dask ``LocalCluster`` on loopback) import them by reference. The Dask tests share one
cluster (the ``dask_client`` fixture of conftest.py). Tests of dead workers kill worker
processes on purpose with ``os._exit`` inside the observable: once (a marker file in
``tmp_path`` says it happened) or at every attempt.
"""
from __future__ import annotations

import concurrent.futures as cf
import functools
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import chargetransport as ct
from chargetransport import _executors
from chargetransport import ensemble as ens
from chargetransport._chunks import chunk_tasks, run_chunk
from chargetransport.ensemble import EnsembleError, EnsembleResult, ensemble_average, process_pool
from chargetransport.streaming_moments import StreamingMoments


# --------------------------------------------------------------------------------------
# Observables and exact moments
# --------------------------------------------------------------------------------------
def wave_packet_observable(seed_sequence, L=8, eta=0.5, t=2.0):
    """Momentum distribution and spread of a wave packet in one disorder realization."""
    lat = ct.Lattice(d=2, L=L)
    H = ct.AndersonHamiltonian(lat, eta, ct.random_potential(lat, seed=seed_sequence))
    psi0 = ct.gaussian_wave_packet(lat, center=(0, 0), width=1.5, momentum=(0.2, 0.1))
    psi_t = ct.evolve(H, psi0, t=t)
    return {"momentum": ct.momentum_distribution(psi_t),
            "msd": ct.mean_square_displacement(psi_t)}


def normal_draw(seed_sequence, shape=(3,)):
    return ct.as_generator(seed_sequence).standard_normal(shape)


def normal_draw_slow_on_even(seed_sequence, realization_delay=0.02):
    """Even realizations finish late, so that chunks complete out of order on 2 workers."""
    value = ct.as_generator(seed_sequence).standard_normal(2)
    if seed_sequence.spawn_key[-1] % 2 == 0:
        threading.Event().wait(realization_delay)
    return value


def nan_on_realization_3(seed_sequence):
    return math.nan if seed_sequence.spawn_key[-1] == 3 else 1.0


def shape_changes_on_realization_2(seed_sequence):
    return np.zeros(3 if seed_sequence.spawn_key[-1] == 2 else 2)


def raises_on_realization_1(seed_sequence):
    if seed_sequence.spawn_key[-1] == 1:
        raise ArithmeticError("boom")
    return 0.0


def needs_lock(seed_sequence, lock):
    return 0.0


def first_time(marker):
    """True once per marker file: creates it atomically."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


def dies_on(seed_sequence, realization, marker=None):
    """``normal_draw``, but the worker process dies at ``realization``: the first time only
    with a ``marker`` file, at every attempt without. Never run it serially."""
    if seed_sequence.spawn_key[-1] == realization and (marker is None or first_time(marker)):
        os._exit(1)
    return normal_draw(seed_sequence)


def raises_and_counts(seed_sequence, realization, log):
    """Raises at ``realization``, appending a line to ``log`` each time it is called there."""
    if seed_sequence.spawn_key[-1] == realization:
        with open(log, "a") as fh:
            fh.write("called\n")
        raise ArithmeticError("a bug in the observable")
    return normal_draw(seed_sequence)


def fails_once_on(seed_sequence, realization, marker):
    """``normal_draw``, raising at ``realization`` the first time (an interrupted run)."""
    if seed_sequence.spawn_key[-1] == realization and first_time(marker):
        raise KeyboardInterrupt("interrupted")
    return normal_draw(seed_sequence)


def stops_at_once(seed_sequence):
    raise LookupError("evaluated")


def assert_same_bits(a, b):
    """The two EnsembleResults hold bit-for-bit identical accumulators."""
    assert a.keys() == b.keys()
    for key in a.keys():
        sa, sb = a[key], b[key]
        assert sa.count == sb.count
        assert np.asarray(sa.mean).tobytes() == np.asarray(sb.mean).tobytes(), key
        for r in range(2, sa.max_order + 1):
            assert (np.asarray(sa.central_moment(r)).tobytes()
                    == np.asarray(sb.central_moment(r)).tobytes()), (key, r)

# --------------------------------------------------------------------------------------
# ensemble_average: reduction order and reproducibility (serial)
# --------------------------------------------------------------------------------------
def test_chunk_size_one_is_bitwise_the_plain_update_loop():
    res = ensemble_average(normal_draw, 40, seed=9, max_order=4, chunk_size=1, progress=False)
    loop = StreamingMoments(4)
    for s in ct.realization_seeds(9, 40):
        loop.update(normal_draw(s))
    assert isinstance(res, EnsembleResult) and not res.keyed and list(res.keys()) == ["value"]
    assert res.mean.tobytes() == loop.mean.tobytes()
    for r in (2, 3, 4):
        assert res.central_moment(r).tobytes() == loop.central_moment(r).tobytes()
    assert res.num_realizations == 40 and res.chunk_size == 1 and res.executor == "serial"
    assert res.wall_time > 0 and res.realizations_per_second > 0


def test_chunked_reduction_matches_the_loop_to_rounding():
    loop = StreamingMoments(4)
    for s in ct.realization_seeds(9, 40):
        loop.update(normal_draw(s))
    res = ensemble_average(normal_draw, 40, seed=9, max_order=4, chunk_size=7, progress=False)
    # chunks of 7 (and a last one of 5) merged pairwise: same sums, other association
    np.testing.assert_allclose(res.mean, loop.mean, rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.central_moment(4), loop.central_moment(4), rtol=1e-13)


def test_realization_r_is_reproduced_alone_with_start_r():
    seed = np.random.SeedSequence(1234)
    alone = ensemble_average(wave_packet_observable, 1, seed, start=5, progress=False,
                             numba_threads=1)
    direct = wave_packet_observable(ct.realization_seeds(seed, 1, start=5)[0])
    for key in ("momentum", "msd"):
        assert np.asarray(alone.mean[key]).tobytes() == np.asarray(direct[key]).tobytes()
    # ... and runs over [0, 3) and [3, 6) are the two halves of [0, 6).
    whole = ensemble_average(normal_draw, 6, 77, chunk_size=3, progress=False)
    first = ensemble_average(normal_draw, 3, 77, chunk_size=3, progress=False)
    second = ensemble_average(normal_draw, 3, 77, start=3, chunk_size=3, progress=False)
    merged = first["value"].copy().merge(second["value"])
    assert merged.mean.tobytes() == whole.mean.tobytes()


def test_dict_observable_gives_dict_results():
    res = ensemble_average(wave_packet_observable, 3, 2, progress=False, numba_threads=1)
    assert res.keyed and set(res.keys()) == {"momentum", "msd"}
    assert res.mean["momentum"].shape == (8, 8) and np.ndim(res.mean["msd"]) == 0
    # |psi_hat|^2 sums to L^d ||psi||^2 = 64 in every realization, so its mean does too.
    assert res.mean["momentum"].sum() == pytest.approx(64.0, rel=1e-12)
    assert res.standard_error["msd"] > 0


def test_default_chunk_size_depends_on_the_number_of_realizations_only():
    assert ensemble_average(normal_draw, 100, 0, progress=False).chunk_size == 1
    assert ensemble_average(normal_draw, 101, 0, progress=False).chunk_size == 2
    assert ensemble_average(normal_draw, 1000, 0, progress=False).chunk_size == 10


def test_dask_executor_without_dask_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    with pytest.raises(ImportError, match=r"optional dependency.*chargetransport\[dask\]"):
        ensemble_average(normal_draw, 2, 0, executor="dask", progress=False)


def test_auto_stays_serial_for_cheap_realizations():
    res = ensemble_average(normal_draw, 30, 4, executor="auto", progress=False)
    assert res.executor == "auto: serial"
    assert_same_bits(res, ensemble_average(normal_draw, 30, 4, progress=False))


def test_auto_moves_to_a_pool_when_work_remains_and_keeps_the_bits(monkeypatch):
    monkeypatch.setattr(ens, "_AUTO_THRESHOLD_SECONDS", 0.0)  # any remaining work pays
    res = ensemble_average(normal_draw, 12, 4, executor="auto", max_workers=2, progress=False)
    assert res.executor == "auto: serial for 2 chunk(s), then processes"
    assert_same_bits(res, ensemble_average(normal_draw, 12, 4, progress=False))


def test_ensemble_average_rejects_bad_input():
    with pytest.raises(TypeError, match="'observable' must be callable"):
        ensemble_average(3, 10, 0)
    with pytest.raises(ValueError, match="'num_realizations' must be >= 1"):
        ensemble_average(normal_draw, 0, 0)
    with pytest.raises(TypeError, match="'seed' must be an integer or a numpy.random.SeedSeq"):
        ensemble_average(normal_draw, 2, None)
    with pytest.raises(ValueError, match="'start' must be >= 0"):
        ensemble_average(normal_draw, 2, 0, start=-1)
    with pytest.raises(ValueError, match="'chunk_size' must be >= 1"):
        ensemble_average(normal_draw, 2, 0, chunk_size=0)
    with pytest.raises(ValueError, match="'max_order' must be <= 12"):
        ensemble_average(normal_draw, 2, 0, max_order=13)
    with pytest.raises(ValueError, match="'executor' must be 'serial', 'processes'"):
        ensemble_average(normal_draw, 2, 0, executor="threads")
    with pytest.raises(TypeError, match="'executor' must be"):
        ensemble_average(normal_draw, 2, 0, executor=2)
    with pytest.raises(ValueError, match="'max_workers' must be >= 1"):
        ensemble_average(normal_draw, 2, 0, executor="processes", max_workers=0)
    with pytest.raises(ValueError, match="'max_workers' applies to"):
        with cf.ThreadPoolExecutor(1) as pool:
            ensemble_average(normal_draw, 2, 0, executor=pool, max_workers=2)
    with pytest.raises(TypeError, match="'progress' must be True or False"):
        ensemble_average(normal_draw, 2, 0, progress="yes")
    with pytest.raises(ValueError, match="'numba_threads' must be >= 1"):
        ensemble_average(normal_draw, 2, 0, numba_threads=0)
    with pytest.raises(ValueError, match="'max_retries' must be >= 0"):
        ensemble_average(normal_draw, 2, 0, max_retries=-1)
    with pytest.raises(TypeError, match="'max_retries' must be an integer"):
        ensemble_average(normal_draw, 2, 0, max_retries=1.5)
    # The observable's output is checked, and the failing realization is named.
    with pytest.raises(ValueError, match="finite") as info:
        ensemble_average(nan_on_realization_3, 5, 0, progress=False)
    assert any("realization 3" in note for note in getattr(info.value, "__notes__", []))
    with pytest.raises(ValueError, match=r"must have shape \(2,\)"):
        ensemble_average(shape_changes_on_realization_2, 5, 0, progress=False)
    # An unpicklable observable fails before any worker starts.
    with pytest.raises(TypeError, match="'observable' must be picklable"):
        ensemble_average(functools.partial(needs_lock, lock=threading.Lock()), 2, 0,
                         executor="processes")


class _ReverseOrderBackend:
    """Completes the pending tasks newest first, and records how many were outstanding."""

    inline, num_workers = False, 1

    def __init__(self):
        self.max_outstanding = 0
        self.pending = []

    def submit(self, fn, task):
        future = cf.Future()
        future.call = (fn, task)
        self.pending.append(future)
        self.max_outstanding = max(self.max_outstanding, len(self.pending))
        return future

    def wait(self, pending):
        future = self.pending.pop()
        fn, task = future.call
        future.set_result(fn(task))
        return {future}

    @staticmethod
    def triage(futures):
        return futures

    @staticmethod
    def outcome(future):
        return "ok", future.result()

    def cancel(self, pending):
        pass


def test_out_of_order_completions_are_buffered_within_the_window():
    backend = _ReverseOrderBackend()
    tasks = chunk_tasks(normal_draw, 5, 0, 20, 1, 3)  # read lazily
    chunks = list(_executors.run_ordered(backend, run_chunk, tasks))
    assert backend.max_outstanding <= _executors.TASKS_PER_WORKER
    assert [chunk.index for chunk in chunks] == list(range(20))
    loop = StreamingMoments(3)
    total = StreamingMoments(3)
    for s, chunk in zip(ct.realization_seeds(5, 20), chunks):
        loop.update(normal_draw(s))
        total.merge(chunk.moments["value"])
    assert total.central_moment(3).tobytes() == loop.central_moment(3).tobytes()


def test_a_huge_ensemble_is_refused_or_streamed_without_per_realization_lists():
    # Keeping even one float per realization of 10^12 needs 8 TB: refused before any work.
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="'num_realizations' is too large: keeping the samples"):
        ensemble_average(normal_draw, 10**12, 0, keep_samples=True, progress=False)
    # Without samples nothing grows with R: the chunks (10^10 realizations each) and their
    # seeds are generated as needed, so the first realization is evaluated at once.
    with pytest.raises(LookupError, match="evaluated"):
        ensemble_average(stops_at_once, 10**12, 0, progress=False)
    assert time.perf_counter() - t0 < 5.0
    # Samples whose size shows only once evaluated: checked on the first realization of a
    # chunk (here 10^4 realizations of 80 MB each), before the chunk keeps them.
    big = functools.partial(normal_draw, shape=(10**7,))
    with pytest.raises(ValueError, match="'num_realizations' is too large"):
        ensemble_average(big, 10**6, 0, keep_samples=True, progress=False)


# --------------------------------------------------------------------------------------
# Determinism across executors
# --------------------------------------------------------------------------------------
R_PHYSICS = 8


@pytest.fixture(scope="module")
def serial_physics():
    return ensemble_average(wave_packet_observable, R_PHYSICS, 31, max_order=4, progress=False,
                            numba_threads=1)


@pytest.mark.parametrize("max_workers", [1, 2])
def test_process_pool_is_bitwise_identical_to_serial(serial_physics, max_workers):
    res = ensemble_average(wave_packet_observable, R_PHYSICS, 31, max_order=4, progress=False,
                           executor="processes", max_workers=max_workers, numba_threads=1)
    assert res.executor == "processes" and res.num_workers == max_workers
    assert_same_bits(res, serial_physics)


def test_worker_numba_thread_count_does_not_change_the_bits():
    # The serial reference runs 1 Numba thread, the worker 2: the kernels reduce over
    # fixed blocks. The lattice (192^2 sites) is above the size from which the stencil
    # and the reductions run threaded (_kernels.PARALLEL_MIN_SITES), so the two thread
    # counts really take different paths.
    import numba

    from chargetransport import _kernels
    L = 192
    assert L * L >= _kernels.PARALLEL_MIN_SITES
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip(f"NUMBA_NUM_THREADS = {numba.config.NUMBA_NUM_THREADS}: Numba cannot run "
                    "2 threads here, so there is no second thread count to compare with")
    observable = functools.partial(wave_packet_observable, L=L)
    serial = ensemble_average(observable, 3, 31, max_order=4, progress=False, numba_threads=1)
    res = ensemble_average(observable, 3, 31, max_order=4, progress=False,
                           executor="processes", max_workers=1, numba_threads=2)
    assert_same_bits(res, serial)


def test_reused_pool_buffers_out_of_order_chunks_bitwise():
    serial = ensemble_average(normal_draw_slow_on_even, 12, 8, max_order=3, progress=False)
    with process_pool(2) as pool:
        for chunk_size in (1, 1, 5):
            res = ensemble_average(normal_draw_slow_on_even, 12, 8, max_order=3,
                                   progress=False, executor=pool, chunk_size=chunk_size)
            reference = serial if chunk_size == 1 else ensemble_average(
                normal_draw_slow_on_even, 12, 8, max_order=3, progress=False, chunk_size=5)
            assert_same_bits(res, reference)
        # A failing realization in a worker is reported with its index.
        with pytest.raises(ArithmeticError, match="boom") as info:
            ensemble_average(raises_on_realization_1, 4, 0, executor=pool, progress=False)
        assert any("realization 1" in note for note in getattr(info.value, "__notes__", []))


def test_dask_cluster_is_bitwise_identical_to_serial(serial_physics, dask_client):
    res = ensemble_average(wave_packet_observable, R_PHYSICS, 31, max_order=4, progress=False,
                           executor=dask_client)
    assert res.executor.startswith("dask (2 workers") and res.num_workers == 2
    assert_same_bits(res, serial_physics)
    # executor="dask" finds the current client; out-of-order chunks are buffered.
    slow = ensemble_average(normal_draw_slow_on_even, 10, 8, max_order=3, progress=False,
                            executor="dask")
    assert_same_bits(slow, ensemble_average(normal_draw_slow_on_even, 10, 8, max_order=3,
                                            progress=False))


def test_dask_reports_a_failing_realization(dask_client):
    with pytest.raises(ArithmeticError, match="boom") as info:
        ensemble_average(raises_on_realization_1, 3, 0, executor=dask_client, progress=False)
    assert any("realization 1" in note for note in getattr(info.value, "__notes__", []))


# --------------------------------------------------------------------------------------
# ensemble_average(keep_samples=...)
# --------------------------------------------------------------------------------------
def pair_and_scalar(seed_sequence):
    rng = ct.as_generator(seed_sequence)
    return {"pair": rng.standard_normal(2), "scalar": rng.exponential()}


def small_wave_packet(seed_sequence, L=8, eta=0.5):
    lat = ct.Lattice(d=2, L=L)
    H = ct.AndersonHamiltonian(lat, eta, ct.random_potential(lat, seed=seed_sequence))
    psi = ct.evolve(H, ct.gaussian_wave_packet(lat, center=(0, 0), width=1.5,
                                               momentum=(0.2, 0.1)), t=2.0)
    return {"msd": ct.mean_square_displacement(psi), "momentum": ct.momentum_distribution(psi)}


def test_kept_samples_are_the_observations_in_realization_order():
    res = ensemble_average(pair_and_scalar, 23, 9, start=4, chunk_size=5, progress=False,
                           keep_samples="scalar", max_order=4)
    assert list(res.samples) == ["scalar"]
    direct = [pair_and_scalar(s)["scalar"] for s in ct.realization_seeds(9, 23, start=4)]
    assert res.samples["scalar"].tobytes() == np.array(direct).tobytes()
    # the streaming moments agree with the samples (to rounding: Pebay vs two-pass)
    assert res["scalar"].central_moment(4) == pytest.approx(
        np.mean((res.samples["scalar"] - res.samples["scalar"].mean()) ** 4), rel=1e-12)
    everything = ensemble_average(pair_and_scalar, 7, 9, progress=False, keep_samples=True)
    assert everything.samples["pair"].shape == (7, 2)
    plain = ensemble_average(pair_and_scalar, 7, 9, progress=False)
    assert plain.samples is None
    assert plain["pair"].mean.tobytes() == everything["pair"].mean.tobytes()


def test_kept_samples_of_a_non_dict_observable_use_the_value_key():
    res = ensemble_average(lambda s: ct.as_generator(s).standard_normal(), 5, 1,
                           progress=False, keep_samples=True)
    assert res.samples["value"].shape == (5,)


def test_kept_samples_are_bitwise_identical_on_a_process_pool():
    kwargs = dict(progress=False, keep_samples=("msd",), max_order=4, numba_threads=1)
    serial = ensemble_average(small_wave_packet, 6, 31, **kwargs)
    pool = ensemble_average(small_wave_packet, 6, 31, executor="processes", max_workers=2,
                            **kwargs)
    assert pool.samples["msd"].tobytes() == serial.samples["msd"].tobytes()
    assert pool["momentum"].central_moment(4).tobytes() == \
        serial["momentum"].central_moment(4).tobytes()


def test_keep_samples_rejects_bad_input():
    with pytest.raises(ValueError, match="'keep_samples'.*'nope'"):
        ensemble_average(pair_and_scalar, 2, 0, progress=False, keep_samples="nope")
    with pytest.raises(TypeError, match="'keep_samples'"):
        ensemble_average(pair_and_scalar, 2, 0, progress=False, keep_samples=3)
    with pytest.raises(TypeError, match="'keep_samples'"):
        ensemble_average(pair_and_scalar, 2, 0, progress=False, keep_samples=[])



def test_kept_samples_with_executor_auto_equal_serial():
    kwargs = dict(progress=False, keep_samples=True, max_order=3)
    auto = ensemble_average(pair_and_scalar, 9, 4, executor="auto", **kwargs)
    serial = ensemble_average(pair_and_scalar, 9, 4, **kwargs)
    for key in ("pair", "scalar"):
        assert auto.samples[key].tobytes() == serial.samples[key].tobytes()


# --------------------------------------------------------------------------------------
# Dead workers
# --------------------------------------------------------------------------------------
R_FAULT, SEED_FAULT, CHUNK_FAULT = 40, 6, 3


@pytest.fixture(scope="module")
def undisturbed():
    return ensemble_average(normal_draw, R_FAULT, SEED_FAULT, chunk_size=CHUNK_FAULT,
                            max_order=4, progress=False)


def chunkwise_merge(ranges):
    """The moments of realizations ``ranges`` (chunk boundaries of CHUNK_FAULT), merged chunk
    by chunk in order: what a partial result must hold, computed independently."""
    total = StreamingMoments(4)
    for first, stop in ranges:
        for chunk_first in range(first, stop, CHUNK_FAULT):
            chunk = StreamingMoments(4)
            for s in ct.realization_seeds(SEED_FAULT, min(CHUNK_FAULT, stop - chunk_first),
                                          start=chunk_first):
                chunk.update(normal_draw(s))
            total.merge(chunk)
    return total


def complement(ranges, stop):
    """The ranges of [0, stop) not in ``ranges`` (sorted, disjoint)."""
    out, at = [], 0
    for first, last in ranges:
        if first > at:
            out.append((at, first))
        at = last
    return out + ([(at, stop)] if at < stop else [])


@pytest.mark.parametrize("reuse_pool", [False, True])
def test_a_dead_worker_process_is_replaced_and_its_chunks_resubmitted(undisturbed, tmp_path,
                                                                       reuse_pool):
    observable = functools.partial(dies_on, realization=13, marker=str(tmp_path / "died"))
    kwargs = dict(chunk_size=CHUNK_FAULT, max_order=4, progress=False)
    if reuse_pool:
        with process_pool(2, numba_threads=1) as pool:
            res = ensemble_average(observable, R_FAULT, SEED_FAULT, executor=pool, **kwargs)
            assert pool.restarts == 1
            # the pool stays usable after it replaced its workers
            again = ensemble_average(normal_draw, R_FAULT, SEED_FAULT, executor=pool, **kwargs)
            assert_same_bits(again, undisturbed)
    else:
        res = ensemble_average(observable, R_FAULT, SEED_FAULT, executor="processes",
                               max_workers=2, **kwargs)
    assert (tmp_path / "died").exists() and res.resubmitted >= 1
    assert_same_bits(res, undisturbed)
    print(f"process pool replaced, {res.resubmitted} chunk(s) resubmitted, whole run "
          f"{res.wall_time:.2f} s")


def test_a_chunk_that_keeps_killing_its_worker_raises_with_the_partial_result():
    observable = functools.partial(dies_on, realization=13)
    with pytest.raises(EnsembleError, match=r"realizations 12\.\.14 could not be computed: lost "
                                            r"with their worker process 2 time\(s\) "
                                            r"\(max_retries=1\)") as info:
        ensemble_average(observable, R_FAULT, SEED_FAULT, chunk_size=CHUNK_FAULT, max_order=4,
                         progress=False, executor="processes", max_workers=2, max_retries=1)
    error = info.value
    assert error.failed == [(12, 15)]
    assert any(first <= 12 and 15 <= stop for first, stop in error.missing)
    done = complement(error.missing, R_FAULT)
    partial = error.partial
    assert partial.num_realizations == sum(stop - first for first, stop in done) >= 12
    expected = chunkwise_merge(done)
    assert partial["value"].count == expected.count
    for r in range(2, 5):
        assert partial["value"].central_moment(r).tobytes() == expected.central_moment(r).tobytes()


def test_a_broken_pool_of_the_callers_is_not_replaced(tmp_path):
    observable = functools.partial(dies_on, realization=4, marker=str(tmp_path / "died"))
    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver")) as pool:
        with pytest.raises(EnsembleError, match="BrokenProcessPool.*process_pool()"):
            ensemble_average(observable, 12, 0, chunk_size=2, progress=False, executor=pool)


@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_an_exception_of_the_observable_is_raised_at_once_not_retried(executor, tmp_path,
                                                                       request):
    if executor == "dask":
        executor = request.getfixturevalue("dask_client")
    log = tmp_path / "calls"
    observable = functools.partial(raises_and_counts, realization=5, log=str(log))
    with pytest.raises(ArithmeticError, match="a bug in the observable") as info:
        ensemble_average(observable, 12, 0, chunk_size=2, progress=False, executor=executor,
                         **({"max_workers": 2} if executor == "processes" else {}))
    assert any("realization 5" in note for note in getattr(info.value, "__notes__", []))
    assert log.read_text().count("called") == 1


def test_dask_reruns_the_chunks_of_a_dead_worker_bitwise(undisturbed, dask_client, tmp_path):
    observable = functools.partial(dies_on, realization=13, marker=str(tmp_path / "died"))
    res = ensemble_average(observable, R_FAULT, SEED_FAULT, chunk_size=CHUNK_FAULT, max_order=4,
                           progress=False, executor=dask_client)
    assert (tmp_path / "died").exists()
    assert_same_bits(res, undisturbed)
    print(f"Dask rescheduled the lost chunk, whole run {res.wall_time:.2f} s")


def test_dask_killed_worker_raises_with_the_partial_result(dask_client):
    # The cluster allows one failure: the chunk's second dead worker is KilledWorker. Dask
    # blames every task that was on a dying worker (running or queued there), so chunks
    # lost with the culprit may fail with it, and are named too.
    observable = functools.partial(dies_on, realization=13)
    t0 = time.perf_counter()
    with pytest.raises(EnsembleError, match=r"realizations [0-9., ]*12\.\.14[0-9., ]* could not "
                                            r"be computed: the executor failed with "
                                            r"KilledWorker") as info:
        ensemble_average(observable, R_FAULT, SEED_FAULT, chunk_size=CHUNK_FAULT, max_order=4,
                         progress=False, executor=dask_client)
    print(f"KilledWorker after {time.perf_counter() - t0:.2f} s")
    error = info.value
    assert (12, 15) in error.failed
    assert any(first <= 12 and 15 <= stop for first, stop in error.missing)
    # Results held by the dead workers are lost too (Dask would recompute them): the
    # partial result holds what was gathered before the failure, possibly nothing.
    done = complement(error.missing, R_FAULT)
    if error.partial is None:
        assert not done
    else:
        assert error.partial.num_realizations == sum(stop - first for first, stop in done)
        expected = chunkwise_merge(done)
        assert error.partial["value"].central_moment(4).tobytes() == \
            expected.central_moment(4).tobytes()


# --------------------------------------------------------------------------------------
# Checkpoints and resuming
# --------------------------------------------------------------------------------------
def test_a_resumed_run_skips_the_chunks_on_disk_and_keeps_every_bit(tmp_path):
    folder = tmp_path / "run"
    observable = functools.partial(fails_once_on, realization=23, marker=str(tmp_path / "once"))
    kwargs = dict(chunk_size=4, max_order=4, progress=False, keep_samples=True, checkpoint=folder)
    with pytest.raises(KeyboardInterrupt):  # an interrupted run: chunks 0-4 are on disk
        ensemble_average(observable, 37, 12, **kwargs)
    assert sorted(int(p.stem.split("-")[1]) for p in folder.glob("chunk-*.npz")) == [0, 1, 2, 3, 4]
    resumed = ensemble_average(observable, 37, 12, executor="processes", max_workers=2,
                               **kwargs)
    assert resumed.resumed == 5 and resumed.num_realizations == 37
    reference = ensemble_average(normal_draw, 37, 12, chunk_size=4, max_order=4, progress=False,
                                 keep_samples=True)
    assert_same_bits(resumed, reference)
    assert resumed.samples["value"].tobytes() == reference.samples["value"].tobytes()
    # everything on disk now: a third run computes nothing
    again = ensemble_average(observable, 37, 12, **kwargs)
    assert again.resumed == 10
    assert_same_bits(again, reference)


def test_a_checkpoint_of_other_arguments_is_refused(tmp_path):
    ensemble_average(normal_draw, 8, 3, chunk_size=2, progress=False, checkpoint=tmp_path)
    for change, message in [(dict(chunk_size=4), "chunk_size: 2 in the checkpoint, 4 now"),
                            (dict(seed=4), "seed"), (dict(start=1), "start"),
                            (dict(max_order=3), "max_order"),
                            (dict(keep_samples=True), "keep_samples"),
                            (dict(observable=functools.partial(normal_draw, shape=(2,))),
                             "observable")]:
        kwargs = dict(observable=normal_draw, num_realizations=8, seed=3, chunk_size=2)
        kwargs.update(change)
        with pytest.raises(ValueError, match=f"belongs to another run.*{message}"):
            ensemble_average(progress=False, checkpoint=tmp_path, **kwargs)
    # an int seed and its SeedSequence are the same realizations
    res = ensemble_average(normal_draw, 8, np.random.SeedSequence(3), chunk_size=2,
                           progress=False, checkpoint=tmp_path)
    assert res.resumed == 4


def test_a_longer_run_extends_a_checkpoint_and_equals_a_fresh_run(tmp_path):
    # chunk_size 3: 10 realizations are chunks 0-2 and a short chunk 3 (1 realization);
    # 14 reuse chunks 0-2, compute a full chunk 3 and a short chunk 4
    kwargs = dict(chunk_size=3, max_order=3, progress=False, keep_samples=True,
                  checkpoint=tmp_path)
    short = ensemble_average(normal_draw, 10, 5, **kwargs)
    assert sorted(p.name for p in tmp_path.glob("chunk-*.npz")) == [
        "chunk-0.npz", "chunk-1.npz", "chunk-2.npz", "chunk-3-count-1.npz"]
    longer = ensemble_average(normal_draw, 14, 5, **kwargs)
    assert longer.resumed == 3 and longer.num_realizations == 14
    fresh = ensemble_average(normal_draw, 14, 5, chunk_size=3, max_order=3, progress=False,
                             keep_samples=True)
    assert_same_bits(longer, fresh)
    assert longer.samples["value"].tobytes() == fresh.samples["value"].tobytes()
    # both lengths are now on disk: each is read back whole, bit for bit
    again_short = ensemble_average(normal_draw, 10, 5, **kwargs)
    assert again_short.resumed == 4
    assert_same_bits(again_short, short)
    assert ensemble_average(normal_draw, 14, 5, **kwargs).resumed == 5


_INTERRUPTED_RUN = """
import functools, sys
sys.path.insert(0, {folder!r})
import slow_observables
import chargetransport as ct
if __name__ == "__main__":
    ct.ensemble_average(functools.partial(slow_observables.slow_normal, delay=0.05), 40, 11,
                        chunk_size=2, max_order=4, progress=False, checkpoint={checkpoint!r})
"""

_SLOW_OBSERVABLES = """
import time
import chargetransport as ct


def slow_normal(seed_sequence, delay):
    time.sleep(delay)
    return ct.as_generator(seed_sequence).standard_normal(3)
"""


def test_a_run_killed_mid_way_resumes_bitwise(tmp_path, monkeypatch):
    (tmp_path / "slow_observables.py").write_text(_SLOW_OBSERVABLES)
    checkpoint = tmp_path / "checkpoint"
    script = tmp_path / "run.py"
    script.write_text(_INTERRUPTED_RUN.format(folder=str(tmp_path), checkpoint=str(checkpoint)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(ct.__file__)), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, str(script)], env=env)
    try:
        deadline = time.monotonic() + 120
        while len(list(checkpoint.glob("chunk-*.npz"))) < 5:
            assert proc.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    on_disk = len(list(checkpoint.glob("chunk-*.npz")))
    assert proc.returncode == -signal.SIGKILL and 5 <= on_disk < 20
    monkeypatch.syspath_prepend(str(tmp_path))
    import slow_observables
    resumed = ensemble_average(functools.partial(slow_observables.slow_normal, delay=0.05), 40,
                               11, chunk_size=2, max_order=4, progress=False,
                               checkpoint=checkpoint)
    assert resumed.resumed == on_disk
    reference = ensemble_average(functools.partial(slow_observables.slow_normal, delay=0.0), 40,
                                 11, chunk_size=2, max_order=4, progress=False)
    assert_same_bits(resumed, reference)
