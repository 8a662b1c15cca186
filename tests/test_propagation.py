"""Tests of chargetransport.propagation: exp(-i t H) psi by Chebyshev expansion, free flow.

References: dense eigendecomposition of ``H.to_sparse()`` and
``scipy.sparse.linalg.expm_multiply`` (a Taylor/scaling method, independent of the
Chebyshev series), plane waves for the free flow, and exact identities of a unitary group.
Every error is measured relative to ``||psi0||``.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.sparse.linalg import expm_multiply

import chargetransport as ct
import chargetransport._chebyshev_sweeps as sweeps
import chargetransport._kernels as kernels
import chargetransport.propagation as propagation

TIMES = [0.3, -2.7, 7.0, 50.0, -50.0]
SMALL = {1: 11, 2: 6, 3: 4}     # small boxes: dense eigendecomposition is cheap


def random_state(shape, rng):
    psi = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return psi / np.linalg.norm(psi)


def disordered(d, L, eta=0.8, seed=1, distribution="gaussian"):
    lat = ct.Lattice(d, L)
    return ct.AndersonHamiltonian(lat, eta, ct.random_potential(lat, distribution, seed=seed))


class DenseEvolution:
    """exp(-i t H) psi from the eigendecomposition of the dense matrix."""

    def __init__(self, H):
        self.shape = H.lattice.shape
        self.ev, self.U = np.linalg.eigh(H.to_sparse().toarray())

    def __call__(self, psi, t):
        c = self.U.conj().T @ psi.ravel()
        return (self.U @ (np.exp(-1j * self.ev * t) * c)).reshape(self.shape)


# Error budget of the dense reference: eigenvalues to ~ L^d eps ||H|| ~ 1e-14, so the
# phase error at |t| = 50 is ~5e-13; the Chebyshev series is cut at tol = 1e-12 (default).
# Measured differences are <= 6e-13; 1e-10 leaves room for rounding on other platforms.
REF_TOL = 1e-10


@pytest.mark.parametrize("d", [1, 2, 3])
def test_evolve_matches_dense_eigendecomposition(d):
    H = disordered(d, SMALL[d])
    exact = DenseEvolution(H)
    psi0 = random_state(H.lattice.shape, np.random.default_rng(d))
    for t in TIMES:
        assert np.linalg.norm(ct.evolve(H, psi0, t=t) - exact(psi0, t)) < REF_TOL, t


@pytest.mark.parametrize("d", [1, 2, 3])
def test_evolve_matches_expm_multiply(d):
    H = disordered(d, SMALL[d], eta=1.5, distribution="uniform", seed=5)
    A = H.to_sparse()
    psi0 = random_state(H.lattice.shape, np.random.default_rng(10 + d))
    for t in TIMES:
        ref = expm_multiply(-1j * t * A, psi0.ravel()).reshape(psi0.shape)
        # expm_multiply works to double precision (measured <= 6e-13 off the dense result)
        assert np.linalg.norm(ct.evolve(H, psi0, t=t) - ref) < REF_TOL, t


def test_evolve_matches_expm_multiply_in_3d_on_an_odd_box_with_bernoulli_disorder():
    H = disordered(3, 5, eta=2.0, distribution="bernoulli", seed=8)
    psi0 = random_state(H.lattice.shape, np.random.default_rng(3))
    ref = expm_multiply(-1j * 4.0 * H.to_sparse(), psi0.ravel()).reshape(psi0.shape)
    assert np.linalg.norm(ct.evolve(H, psi0, t=4.0) - ref) < REF_TOL


def test_evolve_on_a_threaded_size_lattice_matches_expm_multiply():
    # 2D, L = 192: 36864 sites >= 2^15, so the threaded stencil drivers are used
    H = disordered(2, 192, eta=0.9, seed=6)
    psi0 = ct.gaussian_wave_packet(H.lattice, [3.0, -2.0], 6.0, [0.15, 0.3])
    A = H.to_sparse()
    for t in (2.5, -1.0):
        ref = expm_multiply(-1j * t * A, psi0.ravel()).reshape(psi0.shape)
        assert np.linalg.norm(ct.evolve(H, psi0, t=t) - ref) < REF_TOL, t


@pytest.mark.parametrize("d", [1, 2, 3])
def test_evolve_error_is_below_tol_and_terms_decrease_as_tol_grows(d):
    H = disordered(d, SMALL[d], eta=1.0, seed=2)
    exact = DenseEvolution(H)
    psi0 = 3.0 * random_state(H.lattice.shape, np.random.default_rng(7))   # ||psi0|| = 3
    for t in (0.5, -6.0, 30.0):
        terms = []
        for tol in (1e-12, 1e-8, 1e-4):
            err = np.linalg.norm(ct.evolve(H, psi0, t=t, tol=tol) - exact(psi0, t))
            # the documented bound: ||error|| <= tol ||psi0|| (the reference is ~5e-13 off,
            # which matters only for tol = 1e-12: allow that reference error on top)
            assert err <= tol * 3.0 + 1e-12, (t, tol, err)
            terms.append(ct.chebyshev_num_terms(H, t, tol))
        assert terms[0] > terms[1] > terms[2] >= 1, terms


def test_evolve_with_times_respects_tol_at_every_time():
    H = disordered(2, 6, eta=1.0, seed=3)
    exact = DenseEvolution(H)
    psi0 = random_state(H.lattice.shape, np.random.default_rng(1))
    times = [4.0, -1.0, 0.5, 9.0, -3.0]
    for tol in (1e-4, 1e-8):
        out = ct.evolve(H, psi0, times=times, tol=tol)
        for i, t in enumerate(times):
            assert np.linalg.norm(out[i] - exact(psi0, t)) <= tol, (tol, t)


def test_number_of_chebyshev_terms_grows_linearly_with_time():
    H = disordered(2, 8, eta=0.5, seed=0)
    a = 0.5 * (H.spectral_bounds()[1] - H.spectral_bounds()[0])
    for t in (10.0, 100.0):
        n = ct.chebyshev_num_terms(H, t)
        # J_n(a t) is negligible only for n > a t; the excess is O((a t)^{1/3} log(1/tol)):
        # below 12 (a t)^{1/3} + 60 for tol = 1e-12 (the module's coefficient range).
        assert a * t < n < a * t + 12 * (a * t) ** (1 / 3) + 60
    assert ct.chebyshev_num_terms(H, -10.0) == ct.chebyshev_num_terms(H, 10.0)
    assert ct.chebyshev_num_terms(H, 0.0) == 1


def test_chebyshev_num_terms_counts_the_stencil_sweeps_of_one_step(monkeypatch):
    calls = []
    for module, name in ((kernels, "stencil_apply"), (sweeps, "chebyshev_steps")):
        kernel = getattr(module, name)
        # chebyshev_steps computes one term per coefficient (its 8th argument)
        monkeypatch.setattr(module, name, lambda *args, _k=kernel, _name=name:
                            (calls.extend([1] * (len(args[7]) if _name == "chebyshev_steps"
                                                 else 1)), _k(*args))[1])
    H = disordered(2, 8)
    psi0 = random_state(H.lattice.shape, np.random.default_rng(0))
    for t in (1.0, 20.0):
        calls.clear()
        ct.evolve(H, psi0, t=t)
        # the zeroth term is psi0 itself; every further term costs one stencil (on large
        # fields several share a sweep over memory)
        assert len(calls) == ct.chebyshev_num_terms(H, t) - 1


@pytest.mark.parametrize("d,L", [(2, 260), (3, 41)])
def test_evolve_with_fused_sweeps_equals_one_step_per_sweep_bit_for_bit(d, L, monkeypatch):
    # fields of at least _FUSED_MIN_SITES sites run 4 Chebyshev terms per sweep, with the
    # roles of the two fields swapped after an odd last sweep: the same bytes as one term
    # per sweep, for series whose length leaves each remainder 0-3 after the pairs of T_0, T_1
    H = disordered(d, L, seed=3)
    assert H.lattice.num_sites >= propagation._FUSED_MIN_SITES
    psi0 = random_state(H.lattice.shape, np.random.default_rng(4))
    remainders = set()
    for t in np.arange(0.5, 8.0, 0.25):
        remainder = (ct.chebyshev_num_terms(H, t) - 2) % 4
        if remainder in remainders:
            continue
        remainders.add(remainder)
        fused = ct.evolve(H, psi0, t=t)
        with monkeypatch.context() as m:
            m.setattr(propagation, "_STEPS_PER_SWEEP", 1)
            single = ct.evolve(H, psi0, t=t)
        assert fused.tobytes() == single.tobytes()
    assert remainders == {0, 1, 2, 3}


@given(d=st.integers(1, 3), L=st.integers(3, 6), eta=st.floats(0.0, 3.0),
       t=st.floats(-20.0, 20.0), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=25, deadline=None)
def test_evolve_is_unitary_and_backward_evolution_returns_psi0(d, L, eta, t, seed):
    H = disordered(d, L, eta=eta, seed=seed)
    psi0 = random_state(H.lattice.shape, np.random.default_rng(seed))
    psi_t = ct.evolve(H, psi0, t=t)
    # truncation <= tol = 1e-12 per step; rounding ~ (number of terms <= 200) eps ~ 5e-14
    assert abs(np.linalg.norm(psi_t) - 1.0) < 2e-12
    assert np.linalg.norm(ct.evolve(H, psi_t, t=-t) - psi0) < 3e-12


@given(t1=st.floats(-10.0, 10.0), t2=st.floats(-10.0, 10.0), seed=st.integers(0, 1000))
@settings(max_examples=20, deadline=None)
def test_evolve_has_the_group_property(t1, t2, seed):
    H = disordered(2, 5, eta=1.0, seed=seed)
    psi0 = random_state(H.lattice.shape, np.random.default_rng(seed))
    two_steps = ct.evolve(H, ct.evolve(H, psi0, t=t1), t=t2)
    # three truncations of <= 1e-12 each plus rounding
    assert np.linalg.norm(two_steps - ct.evolve(H, psi0, t=t1 + t2)) < 4e-12


def test_evolve_times_equals_individual_calls_in_the_given_order():
    H = disordered(2, 7, eta=0.6, seed=4)
    psi0 = random_state(H.lattice.shape, np.random.default_rng(2))
    times = [3.0, -1.5, 0.0, 12.0, -7.25, 3.0, 0.4]      # unsorted, negative, zero, repeated
    out = ct.evolve(H, psi0, times=times)
    assert out.shape == (len(times),) + H.lattice.shape and out.dtype == np.complex128
    for i, t in enumerate(times):
        # each result is within tol = 1e-12 of the exact one: they agree to 2e-12 + rounding
        assert np.linalg.norm(out[i] - ct.evolve(H, psi0, t=t)) < 1e-11, (i, t)
    np.testing.assert_array_equal(out[2], psi0)         # t = 0 is psi0 itself


def test_trajectory_yields_every_index_once_in_order_of_increasing_abs_time():
    H = disordered(1, 9, eta=0.6, seed=4)
    psi0 = random_state(H.lattice.shape, np.random.default_rng(2))
    times = np.array([3.0, -1.5, 0.0, 12.0, -7.25])
    seen = [(i, psi.copy()) for i, psi in ct.trajectory(H, psi0, times)]
    assert sorted(i for i, _ in seen) == list(range(len(times)))
    # non-negative times increasing, then negative ones decreasing
    assert [times[i] for i, _ in seen] == [0.0, 3.0, 12.0, -1.5, -7.25]
    full = ct.evolve(H, psi0, times=times)
    for i, psi in seen:
        np.testing.assert_array_equal(psi, full[i])   # evolve(times=...) is built on it


def test_evolve_empty_times_gives_empty_stack():
    H = disordered(1, 5)
    out = ct.evolve(H, random_state((5,), np.random.default_rng(0)), times=[])
    assert out.shape == (0, 5)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_evolve_at_time_zero_returns_a_copy_of_psi0(d):
    H = disordered(d, SMALL[d])
    psi0 = random_state(H.lattice.shape, np.random.default_rng(0))
    out = ct.evolve(H, psi0, t=0.0)
    np.testing.assert_array_equal(out, psi0)      # c_0 = J_0(0) = 1, all others 0: exact
    assert out is not psi0 and not np.shares_memory(out, psi0)


def test_evolve_does_not_modify_psi0():
    H = disordered(2, 6)
    psi0 = random_state(H.lattice.shape, np.random.default_rng(0))
    before = psi0.copy()
    ct.evolve(H, psi0, t=3.0)
    ct.evolve(H, psi0, times=[1.0, -2.0])
    np.testing.assert_array_equal(psi0, before)


@pytest.mark.parametrize("d,L", [(1, 16), (2, 8), (3, 5), (3, 33)])
def test_free_evolution_equals_evolve_with_eta_zero(d, L):
    lat = ct.Lattice(d, L)
    H = ct.AndersonHamiltonian(lat, 0.0)
    psi0 = random_state(lat.shape, np.random.default_rng(d))
    # a long time on the small boxes; the threaded-size box (3, 33) needs only a few sweeps
    times = np.array([0.0, 1.3, -4.0, 25.0] if lat.num_sites < 2**15 else [0.0, 1.3, -2.0])
    free = ct.free_evolution(lat, psi0, times)
    assert free.shape == (len(times),) + lat.shape
    for i, t in enumerate(times):
        # FFT rounding ~1e-15, Chebyshev truncation <= 1e-12
        assert np.linalg.norm(free[i] - ct.evolve(H, psi0, t=t)) < 1e-11
        np.testing.assert_array_equal(ct.free_evolution(lat, psi0, t), free[i])
    assert ct.free_evolution(lat, psi0, 2.0).shape == lat.shape


@given(d=st.integers(1, 3), L=st.integers(3, 8), t=st.floats(-100, 100), data=st.data())
@settings(max_examples=30, deadline=None)
def test_free_evolution_of_a_plane_wave_is_a_phase(d, L, t, data):
    lat = ct.Lattice(d, L)
    m = np.array(data.draw(st.lists(st.integers(0, L - 1), min_size=d, max_size=d)))
    k = m / L
    x = np.stack(lat.coordinates(sparse=False), axis=-1)
    psi = np.ascontiguousarray(np.exp(2j * np.pi * (x @ k)))
    energy = sum(2 * np.cos(2 * np.pi * ki) for ki in k)
    # FFT rounding ~ log(L^d) eps per entry, plus |t| * (rounding of e(k) ~ 1e-15)
    np.testing.assert_allclose(ct.free_evolution(lat, psi, t), np.exp(-1j * t * energy) * psi,
                               rtol=0, atol=1e-13 * (1 + abs(t)))


_THREAD_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import numba
    import chargetransport as ct
    assert numba.get_num_threads() == int(sys.argv[2]), numba.get_num_threads()
    lat = ct.Lattice(3, 34)      # 39304 sites >= 2^15: the threaded kernels run
    H = ct.AndersonHamiltonian(lat, 0.9, ct.random_potential(lat, seed=12))
    psi0 = ct.gaussian_wave_packet(lat, center=[1, 0, -1], width=2.5, momentum=[0.1, 0.2, 0.3])
    out = ct.evolve(H, psi0, times=[-2.0, 4.0])
    np.save(sys.argv[1], out)
""")


def test_evolve_is_bit_for_bit_identical_with_one_and_two_numba_threads(tmp_path):
    results = {}
    for threads in (1, 2):
        env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
        path = tmp_path / f"psi_{threads}.npy"
        subprocess.run([sys.executable, "-c", _THREAD_SCRIPT, str(path), str(threads)],
                       env=env, check=True, timeout=300)
        results[threads] = np.load(path)
    # every site is written by exactly one thread: no tolerance
    assert results[1].tobytes() == results[2].tobytes()
    assert np.all(np.isfinite(results[1]))


# ------------------------------------------------------------------------------------
# twisted boundary conditions
# ------------------------------------------------------------------------------------
@pytest.mark.parametrize("d,L,theta", [(1, 11, [0.3]), (2, 6, [0.5, 0.15]), (3, 4, [0.2, 0.0, 0.85])])
def test_evolve_on_a_twisted_box_matches_expm_multiply_and_is_unitary(d, L, theta):
    lat = ct.Lattice(d, L, twist=theta)
    H = ct.AndersonHamiltonian(lat, 1.1, ct.random_potential(lat, seed=4))
    A = H.to_sparse()
    psi0 = random_state(lat.shape, np.random.default_rng(d))
    for t in (0.7, -5.0, 30.0):
        psi_t = ct.evolve(H, psi0, t=t)
        ref = expm_multiply(-1j * t * A, psi0.ravel()).reshape(psi0.shape)
        assert np.linalg.norm(psi_t - ref) < REF_TOL, t            # as for the periodic box
        # truncation <= 1e-12 per step and rounding of <= 200 terms
        assert abs(np.linalg.norm(psi_t) - 1.0) < 2e-12
        assert np.linalg.norm(ct.evolve(H, psi_t, t=-t) - psi0) < 3e-12


@pytest.mark.parametrize("d,L,theta", [(1, 16, [0.4]), (2, 8, [0.25, 0.7]), (3, 33, [0.1, 0.5, 0.3])])
def test_free_evolution_on_a_twisted_box_equals_evolve_with_eta_zero(d, L, theta):
    lat = ct.Lattice(d, L, twist=theta)
    psi0 = random_state(lat.shape, np.random.default_rng(d))
    H = ct.AndersonHamiltonian(lat, 0.0)
    for t in (1.3, -2.0):
        # FFT rounding ~1e-15, Chebyshev truncation <= 1e-12
        assert np.linalg.norm(ct.free_evolution(lat, psi0, t) - ct.evolve(H, psi0, t=t)) < 1e-11


@pytest.mark.parametrize("d,L,theta", [(1, 9, [0.5]), (2, 5, [0.3, 0.9]), (3, 4, [0.6, 0.1, 0.0])])
def test_free_evolution_of_a_twisted_plane_wave_is_a_phase(d, L, theta):
    lat = ct.Lattice(d, L, twist=theta)
    m = np.arange(d) + 1
    k = (m + np.asarray(theta)) / L
    psi = ct.plane_wave(lat, k)
    energy = float(ct.dispersion(k))
    # FFT rounding ~ log(L^d) eps per entry, plus |t| * (rounding of e(k) ~ 1e-15)
    for t in (3.0, -40.0):
        np.testing.assert_allclose(ct.free_evolution(lat, psi, t), np.exp(-1j * t * energy) * psi,
                                   rtol=0, atol=1e-13 * (1 + abs(t)))


def test_free_evolution_of_an_empty_time_list_is_an_empty_stack():
    lat = ct.Lattice(2, 5)
    out = ct.free_evolution(lat, np.ones(lat.shape, complex), [])
    assert out.shape == (0, 5, 5) and out.dtype == np.complex128


def test_importing_the_package_makes_openmp_threads_sleep_at_barriers_unless_told_otherwise():
    import os
    import subprocess
    import sys
    code = "import os, chargetransport; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "PASSIVE"
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "ACTIVE"
