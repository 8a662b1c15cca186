"""Tests of chargetransport.hamiltonian: H = Delta + eta V on the periodic box (eq. (2.1)).

References: a NumPy ``np.roll`` stencil written here, plane waves (eigenvectors of Delta
with eigenvalue e(k)), and dense eigenvalues.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import chargetransport as ct

EPS = np.finfo(float).eps


def roll_stencil(psi, eta, V):
    """(Delta + eta V) psi with periodic boundaries, by np.roll."""
    out = eta * V * psi
    for axis in range(psi.ndim):
        out = out + np.roll(psi, 1, axis=axis) + np.roll(psi, -1, axis=axis)
    return out


def random_state(shape, rng):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


# Sizes: odd and even L, the smallest allowed L = 3, in every dimension.
CASES = [(1, 3), (1, 4), (1, 17), (2, 3), (2, 4), (2, 7), (3, 3), (3, 4), (3, 5)]


@pytest.mark.parametrize("d,L", CASES)
def test_apply_matches_to_sparse_and_roll_stencil(d, L):
    rng = np.random.default_rng(100 * d + L)
    lat = ct.Lattice(d, L)
    H = ct.AndersonHamiltonian(lat, 0.7, ct.random_potential(lat, seed=L))
    psi = random_state(lat.shape, rng)
    Hpsi = H.apply(psi)
    assert Hpsi.shape == lat.shape and Hpsi.dtype == np.complex128
    # 2d + 1 terms of size <= max|psi| (1 + eta |V|) ~ 10: rounding ~ 7 * 10 eps ~ 2e-14.
    scale = np.abs(psi).max() * (1 + 0.7 * np.abs(H.potential).max())
    np.testing.assert_allclose(Hpsi, (H.to_sparse() @ psi.ravel()).reshape(lat.shape),
                               rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(Hpsi, roll_stencil(psi, 0.7, H.potential), rtol=0, atol=1e-13 * scale)


# The kernels switch from a serial to a threaded driver at 2^15 sites
# (_kernels.PARALLEL_MIN_SITES); these sizes exercise the threaded one.
@pytest.mark.parametrize("d,L", [(1, 40000), (2, 182), (2, 200), (3, 32), (3, 33)])
def test_apply_on_threaded_size_lattices_matches_roll_stencil_and_to_sparse(d, L):
    from chargetransport import _kernels
    lat = ct.Lattice(d, L)
    assert lat.num_sites >= _kernels.PARALLEL_MIN_SITES
    rng = np.random.default_rng(L)
    H = ct.AndersonHamiltonian(lat, 1.1, ct.random_potential(lat, "uniform", seed=L))
    psi = random_state(lat.shape, rng)
    Hpsi = H.apply(psi)
    scale = np.abs(psi).max() * (1 + 1.1 * np.sqrt(3))
    # rounding of 2d + 1 terms, as for the small lattices
    np.testing.assert_allclose(Hpsi, roll_stencil(psi, 1.1, H.potential), rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(Hpsi, (H.to_sparse() @ psi.ravel()).reshape(lat.shape),
                               rtol=0, atol=1e-13 * scale)


def test_serial_and_threaded_stencil_drivers_agree_bit_for_bit():
    # same arithmetic per site in both drivers: no tolerance
    from chargetransport import _chebyshev_sweeps as sweeps, _kernels
    rng = np.random.default_rng(0)
    for shape, twist in [((1, 1, 50), (0.0, 0.0, 0.0)), ((1, 9, 10), (0.0, 0.0, 0.0)),
                         ((5, 6, 7), (0.0, 0.0, 0.0)), ((5, 6, 7), (0.3, 0.0, 0.7)),
                         ((1, 9, 10), (0.0, 0.5, 0.1))]:
        phases = _kernels.boundary_phases(twist)
        psi = random_state(shape, rng)
        V = rng.standard_normal(shape)
        a, b = np.empty_like(psi), np.empty_like(psi)
        _kernels._stencil_apply_serial(psi, V, 0.7, 0.3, -0.1, a, phases)
        for nchunks in (1, 2, 3):
            _kernels._stencil_apply_threads(psi, V, 0.7, 0.3, -0.1, b, phases, nchunks)
            assert a.tobytes() == b.tobytes()
        prev_a = random_state(shape, rng)
        acc_a = random_state(shape, rng)
        prev0, acc0 = prev_a.copy(), acc_a.copy()
        c = np.array([0.25 - 0.5j])
        sweeps._chebyshev_steps_serial(psi, V, 0.7, 0.6, -0.2, prev_a, acc_a, c, phases)
        for nchunks in (1, 2, 3):
            prev_b, acc_b = prev0.copy(), acc0.copy()
            sweeps._chebyshev_steps_threads(psi, V, 0.7, 0.6, -0.2, prev_b, acc_b, c, phases,
                                            nchunks)
            assert prev_a.tobytes() == prev_b.tobytes() and acc_a.tobytes() == acc_b.tobytes()


@pytest.mark.parametrize("shape,twist", [
    ((1, 1, 7), (0.0, 0.0, 0.3)), ((1, 1, 50), (0.0, 0.0, 0.0)), ((1, 5, 6), (0.0, 0.0, 0.0)),
    ((1, 40, 33), (0.0, 0.2, 0.7)), ((1, 300, 200), (0.0, 0.1, 0.0)), ((3, 4, 5), (0.0, 0.0, 0.0)),
    ((3, 4, 5), (0.1, 0.2, 0.3)), ((7, 6, 9), (0.5, 0.0, 0.25)), ((40, 36, 32), (0.0, 0.0, 0.0)),
    ((40, 36, 32), (0.3, 0.1, 0.9)), ((33, 33, 33), (0.0, 0.4, 0.0)),
    # planes of more than _STRIP_SITES sites, swept in strips (the last one narrower)
    ((9, 70, 300), (0.0, 0.0, 0.0)), ((9, 70, 300), (0.3, 0.6, 0.1))])
def test_fused_chebyshev_steps_equal_single_steps_bit_for_bit(shape, twist):
    # the sweep reorders the work (each step a plane or row behind the one before, strips,
    # the edges of chunks and strips in later passes), not the arithmetic: exact bytes
    # for 1-5 steps, the serial driver and the threaded one with 1-3 chunks (chunk edges
    # inside planes, at 2D rows, 1D wraps)
    from chargetransport import _chebyshev_sweeps as sweeps, _kernels
    if shape == (9, 70, 300):           # the strips are exercised (two, of 54 and 16 rows)
        assert 70 * 300 > sweeps._STRIP_SITES and sweeps._STRIP_SITES // 300 == 54
    rng = np.random.default_rng(sum(shape))
    phases = _kernels.boundary_phases(twist)
    psi, prev, acc = (random_state(shape, rng) for _ in range(3))
    V = rng.standard_normal(shape)
    coeffs = rng.standard_normal(5) + 1j * rng.standard_normal(5)
    for k in range(1, 6):
        p1, q1, a1 = psi.copy(), prev.copy(), acc.copy()
        for s in range(k):              # one sweep per step (checked against an independent
            src, dst = (p1, q1) if s % 2 == 0 else (q1, p1)    # stencil elsewhere in this file)
            sweeps.chebyshev_steps(src, V, 0.7, 0.6, -0.2, dst, a1, coeffs[s:s + 1], phases)
        cs = coeffs[:k].copy()
        runs = [lambda p, q, a: sweeps._chebyshev_steps_serial(p, V, 0.7, 0.6, -0.2, q, a, cs,
                                                               phases)]
        runs += [lambda p, q, a, n=n: sweeps._chebyshev_steps_threads(
            p, V, 0.7, 0.6, -0.2, q, a, cs, phases, n) for n in (1, 2, 3)]
        for run in runs:
            p2, q2, a2 = psi.copy(), prev.copy(), acc.copy()
            run(p2, q2, a2)
            assert p1.tobytes() == p2.tobytes()
            assert q1.tobytes() == q2.tobytes()
            assert a1.tobytes() == a2.tobytes()
    p2, q2, a2 = psi.copy(), prev.copy(), acc.copy()     # no coefficient: no step
    sweeps.chebyshev_steps(p2, V, 0.7, 0.6, -0.2, q2, a2, coeffs[:0], phases)
    assert (p2.tobytes(), q2.tobytes(), a2.tobytes()) == (psi.tobytes(), prev.tobytes(),
                                                          acc.tobytes())


@given(d=st.integers(1, 3), L=st.integers(3, 7), eta=st.floats(0.0, 5.0),
       seed=st.integers(0, 2**32 - 1), distribution=st.sampled_from(ct.DISTRIBUTIONS))
@settings(max_examples=40, deadline=None)
def test_apply_equals_to_sparse_for_random_lattices_and_potentials(d, L, eta, seed, distribution):
    lat = ct.Lattice(d, L)
    H = ct.AndersonHamiltonian(lat, eta, ct.random_potential(lat, distribution, seed=seed))
    psi = random_state(lat.shape, np.random.default_rng(seed))
    scale = np.abs(psi).max() * (1 + eta * np.abs(H.potential).max())
    # rounding of 2d + 1 terms: < 1e-13 relative to the largest term (see above)
    np.testing.assert_allclose(H.apply(psi), (H.to_sparse() @ psi.ravel()).reshape(lat.shape),
                               rtol=0, atol=1e-13 * scale)


@pytest.mark.parametrize("d,L", CASES)
def test_to_sparse_is_hermitian_with_2d_unit_hoppings_per_row(d, L):
    lat = ct.Lattice(d, L)
    H = ct.AndersonHamiltonian(lat, 1.3, ct.random_potential(lat, "uniform", seed=1))
    A = H.to_sparse()
    assert A.shape == (L**d, L**d) and A.dtype == np.complex128
    # exact: entries are 1.0, or eta * w, copied
    assert abs(A - A.conj().T).max() == 0.0
    dense = A.toarray()
    np.testing.assert_array_equal(np.diag(dense).real, 1.3 * H.potential.ravel())
    off = dense - np.diag(np.diag(dense))
    # each site has exactly 2d distinct neighbours for L >= 3, each with hopping 1
    np.testing.assert_array_equal(off.sum(axis=1).real, 2 * d)
    np.testing.assert_array_equal((off != 0).sum(axis=1), 2 * d)


@pytest.mark.parametrize("d,L", [(1, 9), (2, 4), (2, 5), (3, 3), (3, 4)])
def test_spectral_bounds_contain_the_dense_eigenvalues(d, L):
    lat = ct.Lattice(d, L)
    for eta, dist in ((0.0, "gaussian"), (0.5, "gaussian"), (3.0, "bernoulli")):
        H = ct.AndersonHamiltonian(lat, eta, ct.random_potential(lat, dist, seed=d * L))
        lo, hi = H.spectral_bounds()
        ev = np.linalg.eigvalsh(H.to_sparse().toarray())
        # dense eigenvalues are accurate to ~ L^d eps ||H||, far below 1e-12
        assert lo - 1e-12 <= ev.min() and ev.max() <= hi + 1e-12
        # Gershgorin bound of the documented form
        assert lo == pytest.approx(-2 * d + eta * H.potential.min(), abs=1e-15)
        assert hi == pytest.approx(2 * d + eta * H.potential.max(), abs=1e-15)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_spectral_bounds_are_attained_by_the_free_laplacian_on_an_even_box(d):
    lat = ct.Lattice(d, 4)
    ev = np.linalg.eigvalsh(ct.AndersonHamiltonian(lat, 0.0).to_sparse().toarray())
    # +-2d are eigenvalues (k = 0 and k = (1/2, ...)); eigvalsh error ~ 1e-14
    assert ct.AndersonHamiltonian(lat, 0.0).spectral_bounds() == (-2.0 * d, 2.0 * d)
    assert ev.min() == pytest.approx(-2 * d, abs=1e-12) and ev.max() == pytest.approx(2 * d, abs=1e-12)


@given(d=st.integers(1, 3), L=st.integers(3, 8), data=st.data())
@settings(max_examples=30, deadline=None)
def test_apply_with_eta_zero_multiplies_a_plane_wave_by_its_energy(d, L, data):
    lat = ct.Lattice(d, L)
    m = np.array(data.draw(st.lists(st.integers(0, L - 1), min_size=d, max_size=d)))
    k = m / L
    x = np.stack(lat.coordinates(sparse=False), axis=-1)
    psi = np.ascontiguousarray(np.exp(2j * np.pi * (x @ k)))
    Hpsi = ct.AndersonHamiltonian(lat, 0.0).apply(psi)
    # 2d unit-modulus terms plus the rounding of exp at arguments up to 2 pi L d: ~1e-14
    energy = sum(2 * np.cos(2 * np.pi * ki) for ki in k)
    np.testing.assert_allclose(Hpsi, energy * psi, rtol=0, atol=1e-12)


def test_apply_with_constant_potential_shifts_the_plane_wave_energy():
    lat = ct.Lattice(2, 6)
    c, eta = 0.8, 1.5
    H = ct.AndersonHamiltonian(lat, eta, np.full(lat.shape, c))
    x = np.stack(lat.coordinates(sparse=False), axis=-1)
    k = np.array([1, 4]) / 6
    psi = np.ascontiguousarray(np.exp(2j * np.pi * (x @ k)))
    expected = (2 * np.cos(2 * np.pi * k[0]) + 2 * np.cos(2 * np.pi * k[1]) + eta * c) * psi
    np.testing.assert_allclose(H.apply(psi), expected, rtol=0, atol=1e-13)  # rounding, as above


def test_hamiltonian_without_potential_is_the_laplacian():
    lat = ct.Lattice(1, 5)
    H = ct.AndersonHamiltonian(lat, 2.0)
    np.testing.assert_array_equal(H.potential, 0.0)
    psi = np.zeros(5, complex)
    psi[2] = 1.0
    np.testing.assert_array_equal(H.apply(psi), [0, 1, 0, 1, 0])


def test_apply_writes_into_out_and_returns_it():
    lat = ct.Lattice(2, 5)
    H = ct.AndersonHamiltonian(lat, 0.3, ct.random_potential(lat, seed=0))
    psi = random_state(lat.shape, np.random.default_rng(0))
    out = np.full(lat.shape, np.nan + 0j)
    res = H.apply(psi, out=out)
    assert res is out
    np.testing.assert_array_equal(out, H.apply(psi))


def test_apply_does_not_modify_its_input():
    lat = ct.Lattice(3, 4)
    H = ct.AndersonHamiltonian(lat, 0.3, ct.random_potential(lat, seed=0))
    psi = random_state(lat.shape, np.random.default_rng(1))
    before = psi.copy()
    H.apply(psi)
    np.testing.assert_array_equal(psi, before)


def test_potential_property_is_read_only():
    lat = ct.Lattice(1, 6)
    H = ct.AndersonHamiltonian(lat, 1.0, ct.random_potential(lat, seed=2))
    with pytest.raises(ValueError):
        H.potential[0] = 5.0


def test_hamiltonian_neither_freezes_nor_aliases_the_callers_potential():
    lat = ct.Lattice(1, 6)
    V = ct.random_potential(lat, seed=2)
    H = ct.AndersonHamiltonian(lat, 1.0, V)
    assert V.flags.writeable            # the caller's array keeps its flags
    base = np.zeros((2, 6))
    H2 = ct.AndersonHamiltonian(lat, 1.0, base[0])
    base[0, 0] = 5.0                    # a write through the caller's base array
    assert H2.potential[0] == 0.0       # must not reach H2
    assert H.potential is not V


def test_repr_names_lattice_and_eta():
    assert repr(ct.AndersonHamiltonian(ct.Lattice(2, 4), 0.5)) == \
        "AndersonHamiltonian(Lattice(d=2, L=4), eta=0.5)"


# ------------------------------------------------------------------------------------
# the kernel interface: spectral_rescaling, check_field, apply_affine, chebyshev_step
# ------------------------------------------------------------------------------------
@pytest.mark.parametrize("d,L", [(1, 9), (2, 5), (3, 4)])
def test_spectral_rescaling_maps_the_dense_spectrum_inside_the_shrunk_interval(d, L):
    lat = ct.Lattice(d, L)
    H = ct.AndersonHamiltonian(lat, 1.2, ct.random_potential(lat, "uniform", seed=d))
    ev = np.linalg.eigvalsh(H.to_sparse().toarray())
    lo, hi = H.spectral_bounds()
    for margin in (0.0, 1e-6, 0.25):
        a, b = H.spectral_rescaling(margin=margin)
        # the documented formula, evaluated the same way: exact
        assert (a, b) == (0.5 * (hi - lo) * (1 + margin), 0.5 * (hi + lo))
        # eigenvalues to ~1e-14 (dense eigvalsh), so allow that beyond 1 / (1 + margin)
        assert np.abs((ev - b) / a).max() <= 1 / (1 + margin) + 1e-13
    assert H.spectral_rescaling() == ct.hamiltonian.chebyshev_rescaling(lo, hi, ct.hamiltonian.SPECTRAL_MARGIN)


@pytest.mark.parametrize("d,L", [(1, 7), (2, 5), (3, 4), (3, 33)])
def test_apply_affine_and_chebyshev_step_match_the_sparse_matrix(d, L):
    lat = ct.Lattice(d, L)
    H = ct.AndersonHamiltonian(lat, 0.9, ct.random_potential(lat, seed=L))
    A = H.to_sparse()
    rng = np.random.default_rng(d)
    psi, prev, acc = (random_state(lat.shape, rng) for _ in range(3))
    c_h, c_id, c_acc = 0.37, -0.21, 0.4 - 0.3j
    hpsi = (A @ psi.ravel()).reshape(lat.shape)
    scale = np.abs(psi).max() * (1 + 0.9 * np.abs(H.potential).max())
    out = np.empty_like(psi)
    assert H.apply_affine(psi, out, c_h, c_id) is out
    # 2d + 3 terms of size <= scale: rounding < 1e-13 scale
    np.testing.assert_allclose(out, c_h * hpsi + c_id * psi, rtol=0, atol=1e-13 * scale)
    new_prev = c_h * hpsi + c_id * psi - prev
    expected_acc = acc + c_acc * new_prev
    H.chebyshev_step(psi, prev, c_h, c_id, acc, c_acc)
    np.testing.assert_allclose(prev, new_prev, rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(acc, expected_acc, rtol=0, atol=1e-13 * scale)
    # without an accumulator only prev changes
    before = prev.copy()
    H.chebyshev_step(psi, prev, c_h, c_id)
    np.testing.assert_allclose(prev, c_h * hpsi + c_id * psi - before, rtol=0, atol=1e-13 * scale)


def test_check_field_returns_the_field_and_names_the_parameter():
    lat = ct.Lattice(2, 5)
    H = ct.AndersonHamiltonian(lat, 0.3)
    psi = np.zeros(lat.shape, complex)
    assert H.check_field(psi) is psi
    with pytest.raises(TypeError, match="'phi'"):
        H.check_field(psi.real, "phi")
    with pytest.raises(ValueError, match="'phi'.*shape"):
        H.check_field(np.zeros((5, 4), complex), "phi")
    with pytest.raises(ValueError, match="'phi'.*C-contiguous"):
        H.check_field(np.zeros((5, 10), complex)[:, ::2], "phi")


def test_no_module_reads_private_attributes_of_the_hamiltonian():
    # the polynomial methods go through the public kernel interface (hamiltonian.py docstring)
    import pathlib
    import re
    src = pathlib.Path(ct.__file__).parent
    pattern = re.compile(r"\._potential\b|\._potential_3d\b|\._check_psi\b|\._phases\b")
    offenders = [p.name for p in src.glob("*.py")
                 if p.name != "hamiltonian.py" and pattern.search(p.read_text())]
    assert offenders == []


# ------------------------------------------------------------------------------------
# twisted boundary conditions
# ------------------------------------------------------------------------------------
import numba  # noqa: E402


@numba.njit(cache=True)
def reference_stencil(psi, V, eta, c_h, c_id, out):
    """The periodic stencil site by site with modular neighbours, in the order of operations
    of the package's kernel before twists existed (its exact arithmetic, independently coded):
    c_h (x- + x+ + y- + y+ + z- + z+ + eta v psi) + c_id psi; missing axes contribute 0j."""
    n0, n1, n2 = psi.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                xm = psi[(i - 1) % n0, j, k] if n0 > 1 else 0j
                xp = psi[(i + 1) % n0, j, k] if n0 > 1 else 0j
                ym = psi[i, (j - 1) % n1, k] if n1 > 1 else 0j
                yp = psi[i, (j + 1) % n1, k] if n1 > 1 else 0j
                s = xm + xp + ym + yp + psi[i, j, (k - 1) % n2] + psi[i, j, (k + 1) % n2] \
                    + eta * V[i, j, k] * psi[i, j, k]
                out[i, j, k] = c_h * s + c_id * psi[i, j, k]


@pytest.mark.parametrize("d,L", [(1, 3), (1, 40000), (2, 5), (2, 182), (3, 4), (3, 33)])
def test_untwisted_apply_and_chebyshev_step_keep_the_periodic_arithmetic_bit_for_bit(d, L):
    # a zero twist must run exactly the periodic arithmetic (the book's numbers depend on it):
    # compare with the independently coded reference, exact bytes, including a state with
    # many exact zeros (signs of zero included), serial and threaded sizes
    lat = ct.Lattice(d, L, twist=(0.0,) * d)
    H = ct.AndersonHamiltonian(lat, 0.7, ct.random_potential(lat, seed=L))
    rng = np.random.default_rng(L)
    delta = np.zeros(lat.shape, complex)
    delta[(L // 2,) * d] = 1.0
    V3 = ct.hamiltonian.as_3d(np.array(H.potential))
    for psi in (random_state(lat.shape, rng), delta):
        for c_h, c_id in ((1.0, 0.0), (0.31, -0.07)):
            ref = np.empty_like(psi)
            reference_stencil(ct.hamiltonian.as_3d(psi), V3, 0.7, c_h, c_id, ct.hamiltonian.as_3d(ref))
            assert H.apply_affine(psi, np.empty_like(psi), c_h, c_id).tobytes() == ref.tobytes()
            prev = random_state(lat.shape, rng)
            acc = random_state(lat.shape, rng)
            expected_prev = ref - prev               # a complex subtraction: exact same op
            expected_acc = acc + (0.3 - 0.2j) * expected_prev
            H.chebyshev_step(psi, prev, c_h, c_id, acc, 0.3 - 0.2j)
            assert prev.tobytes() == expected_prev.tobytes()
            np.testing.assert_allclose(acc, expected_acc, rtol=0, atol=1e-14 * np.abs(acc).max())
    assert ct.AndersonHamiltonian(ct.Lattice(d, L), 0.7, H.potential.copy()).apply(delta).tobytes() \
        == H.apply(delta).tobytes()


def twisted_hamiltonian(d, L, theta, eta=0.0, seed=0):
    lat = ct.Lattice(d, L, twist=theta)
    V = ct.random_potential(lat, "uniform", seed=seed) if eta else None
    return ct.AndersonHamiltonian(lat, eta, V)


@pytest.mark.parametrize("d,L,theta", [(1, 7, [0.3]), (1, 4, [0.5]), (2, 5, [0.2, 0.7]),
                                       (2, 4, [0.0, 0.45]), (3, 3, [0.1, 0.6, 0.35]),
                                       (3, 4, [0.9, 0.0, 0.25])])
def test_free_spectrum_of_a_twisted_box_is_e_of_the_shifted_grid(d, L, theta):
    H = twisted_hamiltonian(d, L, theta)
    A = H.to_sparse().toarray()
    assert np.abs(A - A.conj().T).max() == 0.0          # conj(phase) placed exactly
    ev = np.linalg.eigvalsh(A)
    k = [(np.arange(L) + t) / L for t in theta]
    e = sum(2 * np.cos(2 * np.pi * ki) for ki in np.meshgrid(*k, indexing="ij")).ravel()
    # dense eigenvalues of a matrix of norm <= 2d: accurate to ~L^d eps 2d < 1e-13
    np.testing.assert_allclose(ev, np.sort(e), rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.sort(H.lattice.dispersion().ravel()), np.sort(e), rtol=0, atol=1e-14)


@given(d=st.integers(1, 3), L=st.integers(3, 7), eta=st.floats(0.0, 3.0),
       seed=st.integers(0, 2**32 - 1), data=st.data())
@settings(max_examples=40, deadline=None)
def test_twisted_apply_equals_to_sparse_for_random_twists_and_potentials(d, L, eta, seed, data):
    theta = data.draw(st.lists(st.floats(0.0, 0.999), min_size=d, max_size=d))
    H = twisted_hamiltonian(d, L, theta, eta, seed)
    psi = random_state(H.lattice.shape, np.random.default_rng(seed))
    scale = np.abs(psi).max() * (1 + eta * np.abs(H.potential).max())
    # 2d + 1 terms, two of them times a unit phase: rounding < 1e-13 of the largest term
    np.testing.assert_allclose(H.apply(psi), (H.to_sparse() @ psi.ravel()).reshape(psi.shape),
                               rtol=0, atol=1e-13 * scale)


@pytest.mark.parametrize("d,L,theta", [(1, 40000, [0.37]), (2, 182, [0.25, 0.8]), (3, 33, [0.1, 0.5, 0.9])])
def test_twisted_apply_on_threaded_size_lattices_matches_to_sparse(d, L, theta):
    H = twisted_hamiltonian(d, L, theta, eta=0.8, seed=3)
    psi = random_state(H.lattice.shape, np.random.default_rng(1))
    scale = np.abs(psi).max() * (1 + 0.8 * np.sqrt(3))
    np.testing.assert_allclose(H.apply(psi), (H.to_sparse() @ psi.ravel()).reshape(psi.shape),
                               rtol=0, atol=1e-13 * scale)


def gauge_transformed_operator(d, L, theta, eta, V):
    """Periodic operator with hopping phase exp(+-2 pi i theta_i / L) on every bond along axis i
    (forward hop x -> x + e_i carries exp(+2 pi i theta_i / L)), built bond by bond."""
    N = L**d
    A = np.zeros((N, N), complex)
    idx = np.arange(N).reshape((L,) * d)
    for site in np.ndindex(*idx.shape):
        for axis in range(d):
            fwd = list(site)
            fwd[axis] = (fwd[axis] + 1) % L
            phase = np.exp(2j * np.pi * theta[axis] / L)
            A[idx[site], idx[tuple(fwd)]] += phase
            A[idx[tuple(fwd)], idx[site]] += np.conj(phase)
    A += np.diag(eta * V.ravel())
    return A


@pytest.mark.parametrize("d,L,theta", [(1, 6, [0.3]), (2, 4, [0.15, 0.6]), (3, 3, [0.2, 0.5, 0.75])])
def test_a_gauge_transformation_maps_the_twist_to_smooth_hopping_phases(d, L, theta):
    # psi(x) = exp(2 pi i theta.x / L) phi(x) with phi periodic: H_theta = G A G^dagger, with A the
    # periodic operator whose bonds all carry exp(+-2 pi i theta_i / L) (built independently)
    eta = 0.9
    H = twisted_hamiltonian(d, L, theta, eta, seed=d)
    A = gauge_transformed_operator(d, L, theta, eta, H.potential)
    x = np.indices((L,) * d).reshape(d, -1)          # array indices: any origin works
    g = np.exp(2j * np.pi * (np.asarray(theta) @ x) / L)
    B = H.to_sparse().toarray()
    # products of unit phases: rounding ~1e-15
    np.testing.assert_allclose(B, g[:, None] * A * np.conj(g)[None, :], rtol=0, atol=1e-14)
    phi = random_state((L,) * d, np.random.default_rng(0))
    psi = np.ascontiguousarray((g * phi.ravel()).reshape(phi.shape))
    np.testing.assert_allclose(H.apply(psi).ravel(), g * (A @ phi.ravel()), rtol=0, atol=1e-13)
    # the twist_factor of the lattice is the same gauge up to a constant phase (centred x)
    ratio = H.lattice.twist_factor().ravel() / g
    np.testing.assert_allclose(ratio, ratio[0], rtol=0, atol=1e-14)


def test_boundary_phases_and_repr_of_a_twisted_hamiltonian():
    H = twisted_hamiltonian(2, 4, [0.25, 0.0])
    assert H.boundary_phases[0] == pytest.approx(1j, abs=1e-15) and H.boundary_phases[1] == 1.0
    assert repr(H) == "AndersonHamiltonian(Lattice(d=2, L=4, twist=(0.25, 0.0)), eta=0.0)"
