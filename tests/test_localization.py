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
