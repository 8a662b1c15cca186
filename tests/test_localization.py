"""Tests for chargetransport.localization: IPR and the spreading functional."""
import numpy as np
import pytest
import scipy.linalg

import chargetransport as ct
from chargetransport import localization as loc


# ------------------------------------------------------------------------------ IPR
def test_ipr_of_plane_wave_and_delta():
    N = 50
    plane = np.exp(2j * np.pi * 3 * np.arange(N) / N)
    assert loc.inverse_participation_ratio(plane) == pytest.approx(1 / N)
    delta = np.zeros(N)
    delta[7] = 2.0
    assert loc.inverse_participation_ratio(delta) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        loc.inverse_participation_ratio(np.zeros(4))


def test_eigenvector_ipr_matches_dense_diagonalisation():
    lat = ct.Lattice(d=2, L=8)
    H = ct.AndersonHamiltonian(lat, 2.0, ct.random_potential(lat, seed=1))
    E, ipr = loc.eigenvector_ipr(H, energy_window=(-1.0, 1.0))
    dense = np.linalg.eigvalsh(H.to_sparse().toarray())
    np.testing.assert_allclose(E, dense[(dense >= -1) & (dense <= 1)], atol=1e-10)
    assert np.all((ipr >= 1 / 64 - 1e-12) & (ipr <= 1))
    with pytest.raises(TypeError):
        loc.eigenvector_ipr(np.eye(3))
    with pytest.raises(ValueError):
        loc.eigenvector_ipr(H, energy_window=(1.0, -1.0))


# ------------------------------------------------------------------------------ spreading
def test_spreading_distance_matches_dense_exponential():
    d, L, eta, times = 2, 8, 0.7, np.array([0.5, 2.0])
    ss = ct.realization_seeds(3, 1)[0]
    got = loc.spreading_distance(ss, d=d, L=L, eta=eta, times=times, tol=1e-12)
    lat = ct.Lattice(d=d, L=L)
    V = ct.random_potential(lat, seed=ss)
    H = ct.AndersonHamiltonian(lat, eta, V).to_sparse().toarray()
    H0 = ct.AndersonHamiltonian(lat, 0.0).to_sparse().toarray()
    phi = np.zeros(L * L)
    phi[(L // 2) * L + L // 2] = 1
    want = [np.sum(np.abs(scipy.linalg.expm(-1j * t * H) @ phi
                          - scipy.linalg.expm(-1j * t * H0) @ phi) ** 2) for t in times]
    # Chebyshev tolerance 1e-12 on the state: the squared distance agrees to ~1e-12
    np.testing.assert_allclose(got, want, atol=1e-10)


def test_spreading_functional_vanishes_without_disorder_and_grows_like_eta_squared_t_squared():
    times = np.array([0.2, 0.4])
    m0, _ = loc.spreading_functional(d=2, L=16, eta=0.0, times=times, num_realizations=2,
                                     progress=False)
    assert np.all(m0 < 1e-18)
    # short times: psi_t - psi0_t = -i eta t w_0 delta_0 + O(t^2), so
    # E||.||^2 = eta^2 t^2 (1 + O(t^2)); at t <= 0.4 the correction is below ~15%
    m, se = loc.spreading_functional(d=2, L=16, eta=0.1, times=times, num_realizations=200,
                                     progress=False, seed=1)
    ratio = m / (0.01 * times**2)
    # 200 realizations of |w_0|^2 (variance 2): 10% standard error; allow 4 sigma + 15%
    assert np.all(np.abs(ratio - 1) < 0.55)
    assert np.all(np.abs(ratio - 1) < 4 * se / (0.01 * times**2) + 0.15)


@pytest.mark.parametrize("d", [2, 3])
def test_golden_rule_spreading_slope_and_limits(d):
    E = np.linspace(-2 * d, 2 * d, 400_000)  # even count: E = 0 is not a node
    rate = 2 * np.pi * np.trapezoid(ct.density_of_states(E, d) ** 2, E)
    F = loc.golden_rule_spreading(np.array([1e-4, 200.0]), d)
    # slope at T -> 0 is the golden-rule rate 2 pi int rho^2 (FFT-grid error ~1e-3;
    # in d = 2 the log singularity of rho at 0 costs a little more on the coarse grid)
    assert F[0] / 1e-4 == pytest.approx(rate, rel=1e-2)
    # long kinetic times: the averaged overlap decays like e^{-pi rho T}, slowest where
    # rho is smallest (band edges, rho >= ~0.05 on most of the band): F -> 2 within 1e-2
    assert F[1] == pytest.approx(2.0, abs=1e-2)
    with pytest.raises(ValueError):
        loc.golden_rule_spreading(-1.0, 3)


# ------------------------------------------------------------------------------ Born term
def _dense_born(d, L, t, sigma):
    """E ||psi_t^(1)||^2 / eta^2 in the periodic box by dense diagonalisation of Delta:
    sum_x v(x)^2 ||int_0^t e^{-i(t-s) Delta} delta_x <delta_x, e^{-is Delta} delta_0> ds||^2."""
    lat = ct.Lattice(d=d, L=L)
    H0 = ct.AndersonHamiltonian(lat, 0.0).to_sparse().toarray().real
    E, U = np.linalg.eigh(H0)
    origin = np.ravel_multi_index((lat.origin_index,) * d, lat.shape)
    dE = E[:, None] - E[None, :]
    same = np.abs(dE) < 1e-12
    # phi[k, q] = int_0^t e^{-i(t-s)E_k} e^{-isE_q} ds
    phi = np.where(same, t * np.exp(-1j * t * E[:, None]),
                   (np.exp(-1j * t * E[None, :]) - np.exp(-1j * t * E[:, None]))
                   / np.where(same, 1.0, 1j * dE))
    r2 = sum(np.broadcast_to(x, lat.shape).ravel() ** 2 for x in lat.coordinates())
    v2 = (1.0 + r2) ** (-sigma)
    total = 0.0
    for x in range(lat.num_sites):
        amp = phi @ (U[x, :] * U[origin, :])          # coefficient of |k> in chi_x
        total += v2[x] * np.sum(np.abs(U[x, :] * amp) ** 2)
    return total


@pytest.mark.parametrize("d, L, t, sigma", [(1, 48, 6.0, 0.0), (1, 48, 6.0, 0.7),
                                            (2, 25, 1.5, 0.0), (2, 25, 1.5, 0.5)])
def test_born_spreading_matches_dense_diagonalisation(d, L, t, sigma):
    # boxes wider than the light cone: J_n(2t) < 1e-6 for n >= L/2, so the wrapped
    # amplitudes change the squared norms by < 1e-10 and Z^d and the box agree
    want = _dense_born(d, L, t, sigma)
    assert loc.born_spreading(t, d, decay_exponent=sigma) == pytest.approx(want, rel=1e-7)
    if sigma == 0.0:
        assert loc.born_spreading(t, d, L=L) == pytest.approx(want, rel=1e-10)


def test_born_spreading_in_a_wrapped_box_is_the_dense_box_value():
    # t = 6 on a ring of 8 sites has wrapped many times: only the box formula is right
    want = _dense_born(1, 8, 6.0, 0.0)
    assert loc.born_spreading(6.0, 1, L=8) == pytest.approx(want, rel=1e-10)
    assert abs(loc.born_spreading(6.0, 1) / want - 1) > 0.05


def test_born_spreading_short_times_slope_and_routes():
    from scipy import integrate, special

    # short times: only the origin has acted, E ||eta w_0 t delta_0||^2 = eta^2 t^2
    for d in (1, 2, 3):
        assert loc.born_spreading(1e-3, d) == pytest.approx(1e-6, rel=1e-5)
    # d = 3: slope 2 pi int rho^2 (from the exact DOS, independently) and offset -c_0
    E = np.linspace(-6, 6, 240_001)
    rate = 2 * np.pi * np.trapezoid(ct.density_of_states(E, 3) ** 2, E)
    b = loc.born_spreading(np.array([100.0, 200.0]), 3)
    assert (b[1] - b[0]) / 100.0 == pytest.approx(rate, rel=1e-4)
    c0 = 2 * integrate.quad(lambda u: u * special.j0(2 * u) ** 6, 0, 4000, limit=40000)[0]
    assert rate * 200.0 - b[1] == pytest.approx(c0, rel=2e-3)
    # the sum over sites with sigma = 0 is Neumann's addition theorem: both routes agree
    times = np.array([0.7, 3.0, 9.0])
    for d in (1, 2):
        np.testing.assert_allclose(loc._born_decaying(times, d, 0.0),
                                   loc._born_uniform(times, d, None), rtol=1e-10)
    # a finer Gauss-Legendre rule changes nothing (quadrature converged)
    coarse = loc.born_spreading(times, 2, decay_exponent=0.5)
    old = loc._BORN_NODES
    try:
        loc._BORN_NODES = 24
        loc._propagator_table.cache_clear()
        fine = loc.born_spreading(times, 2, decay_exponent=0.5)
    finally:
        loc._BORN_NODES = old
        loc._propagator_table.cache_clear()
    np.testing.assert_allclose(coarse, fine, rtol=1e-9)


def test_born_spreading_regimes_of_the_decay_exponent():
    # dyadic increments b(2t) - b(t) scale by 2^(1 - 2 sigma) at large t (section 4.3):
    # relevant (sigma < 1/2), marginal (1/2), irrelevant (> 1/2)
    t = np.array([10.0, 20.0, 40.0])
    for sigma, want, tol in [(0.25, 0.5, 0.03), (0.5, 0.0, 0.05), (1.0, -1.0, 0.5)]:
        b = loc.born_spreading(t, 2, decay_exponent=sigma)
        y = np.log2((b[2] - b[1]) / (b[1] - b[0]))
        assert y == pytest.approx(want, abs=tol)


def test_born_spreading_bad_input():
    with pytest.raises(ValueError):
        loc.born_spreading(-1.0, 2)
    with pytest.raises(ValueError):
        loc.born_spreading(1.0, 4)
    with pytest.raises(ValueError):
        loc.born_spreading(1.0, 3, decay_exponent=0.5)
    with pytest.raises(ValueError):
        loc.born_spreading(1.0, 2, decay_exponent=0.5, L=16)
    with pytest.raises(ValueError):
        loc.born_spreading(1.0, 2, decay_exponent=-0.5)
    assert loc.born_spreading(0.0, 2, decay_exponent=0.5) == 0.0


def test_control_variate_is_unbiased_and_reduces_the_error():
    kwargs = dict(d=2, L=20, eta=0.2, times=[1.0, 3.0], num_realizations=48, seed=4,
                  progress=False)
    plain = loc.spreading_functional(**kwargs)
    cv = loc.spreading_functional(control_variate=True, **kwargs)
    # same realizations: the two estimates differ by mean(Q) - E Q, a mean-zero
    # fluctuation of the Born terms (4 standard errors of Q)
    q = cv.born_samples
    assert np.all(np.abs((plain.mean - cv.mean) - (q.mean(0) - cv.born))
                  < 1e-12)
    assert np.all(np.abs(q.mean(0) - cv.born) < 4 * q.std(0, ddof=1) / np.sqrt(48))
    # the second order dominates the fluctuations: the error drops by a factor > 3
    assert np.all(cv.standard_error < plain.standard_error / 3)
    assert cv.num_realizations == 48 and cv.samples.shape == (48, 2)
    m, se = cv
    assert np.array_equal(m, cv.mean) and np.array_equal(se, cv.standard_error)
    with pytest.raises(ValueError):   # decaying potential: the box must not wrap
        loc.spreading_functional(d=2, L=8, eta=0.2, times=[3.0], num_realizations=2,
                                 decay_exponent=0.5, control_variate=True, progress=False)
