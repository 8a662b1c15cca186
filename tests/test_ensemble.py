"""Tests of chargetransport.ensemble: moment estimators, determinism across executors, lock-step.

The observables are module-level functions, so that worker processes (a local pool or a
Dask ``LocalCluster`` on loopback) import them by reference. The Dask tests share one
cluster (module-scoped fixture); they are skipped only where dask is not installed and
never under ``CI`` (the set-up installs it there, so a missing dask is a failure).
"""
from __future__ import annotations

import concurrent.futures as cf
import functools
import math
import os
import sys
import threading

import numpy as np
import pytest

import chargetransport as ct
from chargetransport import ensemble as ens
from chargetransport.ensemble import (EnsembleResult, LockstepEnsemble, StreamingMoments,
                                      ensemble_average, process_pool)


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


def gaussian_central_moment(r):
    """E[(X - EX)^r] of N(0, 1): (r - 1)!! for even r, 0 for odd r."""
    return 0.0 if r % 2 else float(math.prod(range(r - 1, 0, -2)))


def uniform_central_moment(r):
    """Of U(0, 1): 2^-r / (r + 1) for even r, 0 for odd r."""
    return 0.0 if r % 2 else 2.0**-r / (r + 1)


def exponential_central_moment(r):
    """Of Exp(1): the subfactorial !r (number of derangements), !0 = 1, !1 = 0."""
    d = 1
    for n in range(1, r + 1):
        d = n * d + (-1) ** n
    return float(d)


def sample_moment_std(mu, r, n):
    """Asymptotic standard deviation of the sample central moment m_r of n draws:
    Var m_r = (mu_2r - mu_r^2 - 2r mu_{r-1} mu_{r+1} + r^2 mu_2 mu_{r-1}^2) / n + O(n^-2)
    (Kendall & Stuart, Advanced Theory of Statistics, vol. 1, eq. 10.13)."""
    var = (mu(2 * r) - mu(r) ** 2 - 2 * r * mu(r - 1) * mu(r + 1)
           + r**2 * mu(2) * mu(r - 1) ** 2)
    return math.sqrt(var / n)


def two_pass_central_moments(x, max_order):
    dev = x - x.mean(axis=0)
    return {r: (dev**r).mean(axis=0) for r in range(2, max_order + 1)}


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
# StreamingMoments
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, draw, mu", [
    ("gaussian", lambda g, n: g.standard_normal(n), gaussian_central_moment),
    ("uniform", lambda g, n: g.random(n), uniform_central_moment),
    ("exponential", lambda g, n: g.exponential(1.0, n), exponential_central_moment),
])
def test_central_moments_match_exact_moments_of_known_distributions(name, draw, mu):
    rng = np.random.default_rng(2024)
    n, batch, max_order = 400_000, 20_000, 6
    acc = StreamingMoments(max_order)
    for _ in range(n // batch):  # 20 Pebay merges of two-pass batches
        acc.extend(draw(rng, batch))
    assert acc.count == n
    for r in range(2, max_order + 1):
        # 5 asymptotic standard deviations of m_r: a 6e-7 chance per check of a false
        # alarm for Gaussian fluctuations; the O(1/n) bias of m_r is < 1e-3 of that.
        tol = 5 * sample_moment_std(mu, r, n)
        assert abs(acc.central_moment(r) - mu(r)) < tol, (name, r)
    # The mean: E X = 0, 1/2, 1 and standard error sqrt(mu_2 / n).
    exact_mean = {"gaussian": 0.0, "uniform": 0.5, "exponential": 1.0}[name]
    assert abs(acc.mean - exact_mean) < 5 * math.sqrt(mu(2) / n)
    assert acc.standard_error == pytest.approx(math.sqrt(mu(2) / n), rel=0.01)


def test_update_agrees_with_numpy_two_pass_to_rounding():
    rng = np.random.default_rng(7)
    n, max_order = 4000, 6
    # One column per law; column 3 is column 0 shifted by 1e3 (cancellation test).
    z = rng.standard_normal(n)
    x = np.stack([z, rng.random(n), rng.exponential(2.0, n), 1e3 + z], axis=1)
    acc = StreamingMoments(max_order)
    for row in x:
        acc.update(row)
    dev = x - x.mean(axis=0)
    exact = {r: (dev**r).mean(axis=0) for r in range(1, max_order + 1)}
    magnitude = {r: (np.abs(dev) ** r).mean(axis=0) for r in range(1, max_order + 1)}
    # The running mean rounds at every update: a random walk of ~sqrt(n) eps |mean|,
    # 7e-12 for the shifted column (the two-pass mean is ~100 times better).
    dmean = np.abs(acc.mean - x.mean(axis=0))
    assert np.all(dmean <= 10 * math.sqrt(n) * np.finfo(float).eps * np.abs(x.mean(axis=0)))
    for r in range(2, max_order + 1):
        # Rounding of the power sums themselves: a few hundred eps of E|X - mean|^r, so
        # 1e-12 relative; plus, to first order, r m_{r-1} times the error of the mean
        # (zero for centred columns, the whole error for the shifted one; factor 2 slack).
        bound = 1e-12 * magnitude[r] + 2 * r * np.abs(exact[r - 1]) * dmean
        assert np.all(np.abs(acc.central_moment(r) - exact[r]) <= bound), r
        assert np.all(np.abs(acc.central_moment(r) - exact[r])[:3] <= 1e-12 * magnitude[r][:3])
    np.testing.assert_allclose(acc.variance, x.var(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(acc.standard_error, x.std(axis=0, ddof=1) / math.sqrt(n),
                               rtol=1e-12)


def test_merge_equals_updating_with_all_data():
    rng = np.random.default_rng(11)
    x = rng.exponential(1.0, size=(900, 4))
    whole = StreamingMoments(6)
    for row in x:
        whole.update(row)
    # Uneven pieces, accumulated by update and by extend, merged in two different trees.
    pieces = [x[:1], x[1:250], x[250:251], x[251:700], x[700:]]
    parts = [StreamingMoments(6).extend(p) if i % 2 else StreamingMoments(6) for i, p in
             enumerate(pieces)]
    for part, piece in zip(parts, pieces):
        if part.count == 0:
            for row in piece:
                part.update(row)
    snapshot = parts[4].copy()
    left = parts[0].copy()
    for part in parts[1:]:
        left.merge(part)
    right = parts[3].copy().merge(parts[4])
    right = parts[2].copy().merge(right)
    right = parts[0].copy().merge(parts[1]).merge(right)
    for merged in (left, right):
        assert merged.count == whole.count
        # Different association of the same sums: rounding ~1e-15 of mu_r ~ r!.
        for r in range(2, 7):
            np.testing.assert_allclose(merged.central_moment(r), whole.central_moment(r),
                                       rtol=1e-12)
        np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-13)
    # Merging leaves the other accumulator unchanged, and an empty one is neutral.
    assert parts[4].count == snapshot.count
    assert parts[4].central_moment(6).tobytes() == snapshot.central_moment(6).tobytes()
    for neutral in (StreamingMoments(6).merge(left), left.copy().merge(StreamingMoments(6))):
        assert neutral.central_moment(4).tobytes() == left.central_moment(4).tobytes()


def test_merging_a_singleton_is_bitwise_an_update():
    rng = np.random.default_rng(3)
    a, b = StreamingMoments(5), StreamingMoments(5)
    for x in rng.standard_normal((20, 3)):
        a.update(x)
        b.merge(StreamingMoments(5).update(x))
    for r in range(2, 6):
        assert a.central_moment(r).tobytes() == b.central_moment(r).tobytes()


def test_scalar_observations_give_scalars_and_small_counts_give_nan():
    acc = StreamingMoments(4).update(2.5)
    assert isinstance(acc.mean, np.floating) and acc.mean == 2.5
    assert math.isnan(acc.variance) and math.isnan(acc.standard_error)
    assert acc.central_moment(0) == 1.0 and acc.central_moment(1) == 0.0
    acc.update(3.5)
    assert acc.variance == 0.5 and acc.central_moment(4) == 0.0625
    assert acc.central_lp_norm(4) == pytest.approx(0.5, rel=1e-15)
    assert acc.absolute_central_moment(2) == 0.25
    assert acc.skewness == 0.0 and acc.excess_kurtosis == pytest.approx(-2.0)


def test_odd_absolute_central_moments_are_refused_as_not_streamable():
    acc = StreamingMoments(6).extend(np.arange(10.0))
    with pytest.raises(ValueError, match="odd order 3.*one pass"):
        acc.absolute_central_moment(3)
    with pytest.raises(ValueError, match="even"):
        acc.central_lp_norm(1)


def test_streaming_moments_reject_bad_input():
    with pytest.raises(ValueError, match="'max_order' must be >= 2"):
        StreamingMoments(1)
    with pytest.raises(ValueError, match="'max_order' must be <= 12"):
        StreamingMoments(13)
    with pytest.raises(TypeError, match="'max_order' must be an integer"):
        StreamingMoments(2.0)
    acc = StreamingMoments(3, shape=(2,))
    with pytest.raises(ValueError, match="no observations"):
        acc.mean
    with pytest.raises(ValueError, match=r"'x' must have shape \(2,\)"):
        acc.update([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="'x' must contain only finite"):
        acc.update([1.0, np.nan])
    with pytest.raises(TypeError, match="'x' must be real"):
        acc.update([1j, 0])
    with pytest.raises(ValueError, match="'r' must be <= max_order = 3"):
        acc.update([1.0, 2.0]).central_moment(4)
    with pytest.raises(ValueError, match="'other' must have max_order=3"):
        acc.merge(StreamingMoments(4).update([1.0, 2.0]))
    with pytest.raises(ValueError, match="'other' must hold observations of shape"):
        acc.merge(StreamingMoments(3).update(1.0))
    with pytest.raises(TypeError, match="'other' must be a StreamingMoments"):
        acc.merge([1.0, 2.0])
    with pytest.raises(ValueError, match="'samples' must have shape"):
        acc.extend(np.zeros((4, 3)))


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
    with pytest.raises(TypeError, match="'progress' must be a bool"):
        ensemble_average(normal_draw, 2, 0, progress="yes")
    with pytest.raises(ValueError, match="'numba_threads' must be >= 1"):
        ensemble_average(normal_draw, 2, 0, numba_threads=0)
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

    def __init__(self):
        self.max_outstanding = 0
        self.pending = []

    def submit(self, args):
        future = cf.Future()
        future.args = args
        self.pending.append(future)
        self.max_outstanding = max(self.max_outstanding, len(self.pending))
        return future

    def wait(self, pending):
        future = self.pending.pop()
        future.set_result(ens._run_chunk(*future.args, None))
        return {future}

    def cancel(self, pending):
        pass


def test_out_of_order_completions_are_buffered_within_the_window():
    backend = _ReverseOrderBackend()
    tasks = list(ens._chunk_tasks(normal_draw, 5, 0, 20, 1, 3))
    chunks = list(ens._windowed(backend, iter(tasks), window=4))
    assert backend.max_outstanding <= 4
    loop = StreamingMoments(3)
    total = StreamingMoments(3)
    for s, (_, _, acc) in zip(ct.realization_seeds(5, 20), chunks):
        loop.update(normal_draw(s))
        total.merge(acc["value"])
    assert total.central_moment(3).tobytes() == loop.central_moment(3).tobytes()


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
    # The serial reference runs 1 Numba thread, the worker 2 (the default for a single
    # worker on 2 cores): the kernels reduce over fixed blocks. Only 3 realizations,
    # because 2 threads on a busy 2-core machine are slow on an 8 x 8 lattice.
    serial = ensemble_average(wave_packet_observable, 3, 31, max_order=4, progress=False,
                              numba_threads=1)
    res = ensemble_average(wave_packet_observable, 3, 31, max_order=4, progress=False,
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


@pytest.fixture(scope="module")
def dask_client():
    if os.environ.get("CI"):
        import distributed  # the set-up installs dask: in CI a missing dask is a failure
    else:
        distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


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
# LockstepEnsemble
# --------------------------------------------------------------------------------------
A, B = 0.5, 0.25


def draw_state(seed_sequence):
    return ct.as_generator(seed_sequence).standard_normal(3)


def mean_field_relaxation(x, m):
    """x_r <- A x_r + B m with m the ensemble mean: the mean grows as (A + B)^t and the
    deviations x_r - m shrink as A^t, exactly."""
    x = A * x + B * m
    return x, x


def identity(x):
    return x


def failing_step(x, m):
    raise ArithmeticError("step failed")


def run_lockstep(num_steps=5, **kwargs):
    with LockstepEnsemble(draw_state, mean_field_relaxation, 10, 21, **kwargs) as ensemble:
        m = ensemble.reduce(identity).mean
        means = [m]
        for _ in range(num_steps):
            m = ensemble.step(m).mean
            means.append(m)
        assert ensemble.num_steps == num_steps
        return means, ensemble.states()


def test_lockstep_follows_the_closed_form_of_mean_field_relaxation():
    initial = [draw_state(s) for s in ct.realization_seeds(21, 10)]
    means, states = run_lockstep(numba_threads=1)
    m0 = np.mean(initial, axis=0)
    for t, m in enumerate(means):
        # (A + B)^t m0 up to the rounding of ~10 operations per step: 1e-14 absolute.
        np.testing.assert_allclose(m, (A + B) ** t * m0, rtol=0, atol=1e-14)
    for x, x0 in zip(states, initial):
        np.testing.assert_allclose(x, A**5 * (x0 - m0) + (A + B) ** 5 * m0, rtol=0, atol=1e-14)


@pytest.mark.parametrize("block_size", [1, 3])
def test_lockstep_processes_are_bitwise_identical_to_serial_for_any_split(block_size):
    serial_means, serial_states = run_lockstep(block_size=block_size)
    for workers in (1, 2):
        means, states = run_lockstep(block_size=block_size, executor="processes",
                                     max_workers=workers)
        assert [m.tobytes() for m in means] == [m.tobytes() for m in serial_means]
        assert [x.tobytes() for x in states] == [x.tobytes() for x in serial_states]


def test_lockstep_dask_actors_are_bitwise_identical_to_serial(dask_client):
    serial_means, serial_states = run_lockstep()
    means, states = run_lockstep(executor=dask_client)
    assert [m.tobytes() for m in means] == [m.tobytes() for m in serial_means]
    assert [x.tobytes() for x in states] == [x.tobytes() for x in serial_states]


def test_lockstep_reports_errors_and_rejects_bad_input():
    with LockstepEnsemble(draw_state, failing_step, 4, 0, executor="processes",
                          max_workers=2) as ensemble:
        assert ensemble.num_workers == 2 and ensemble.executor == "processes"
        with pytest.raises(ArithmeticError, match="step failed"):
            ensemble.step(0.0)
    with pytest.raises(ValueError, match="closed"):
        ensemble.step(0.0)
    with pytest.raises(TypeError, match="'step' must be callable"):
        LockstepEnsemble(draw_state, None, 4, 0)
    with pytest.raises(ValueError, match="'num_realizations' must be >= 1"):
        LockstepEnsemble(draw_state, mean_field_relaxation, 0, 0)
    with pytest.raises(ValueError, match="'block_size' must be >= 1"):
        LockstepEnsemble(draw_state, mean_field_relaxation, 4, 0, block_size=0)
    with pytest.raises(ValueError, match="'executor' must be"):
        LockstepEnsemble(draw_state, mean_field_relaxation, 4, 0, executor="threads")
    with pytest.raises(TypeError, match="'seed' must be an integer"):
        LockstepEnsemble(draw_state, mean_field_relaxation, 4, None)
