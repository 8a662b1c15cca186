"""Unit tests for chargetransport.fermions: quasi-free states of the ideal Fermi gas.

References are independent computations: dense matrix exponentials of the
one-particle Hamiltonian, brute-force sums, closed forms; the exact many-body dynamics
on the Fock space is the reference of test_fock_space.py.
"""
import numpy as np
import pytest
import scipy.linalg

import chargetransport as ct
from chargetransport import boltzmann as bz
from chargetransport import fermions as fm


def _random_functions(rng, r, shape):
    return rng.standard_normal((r,) + shape) + 1j * rng.standard_normal((r,) + shape)


# ------------------------------------------------------------------ Fermi-Dirac

def test_fermi_dirac_values_and_zero_temperature_limit():
    E = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(fm.fermi_dirac(E, 2.0, 0.5), 1 / (1 + np.exp(2.0 * (E - 0.5))),
                               rtol=1e-14)
    np.testing.assert_array_equal(fm.fermi_dirac(E, np.inf, 0.5), [1, 1, 1, 0.5, 0])
    # beta = 0: infinite temperature, every state half filled
    np.testing.assert_array_equal(fm.fermi_dirac(E, 0.0, 0.5), 0.5)
    # no overflow far from mu at large beta
    assert fm.fermi_dirac(1e3, 1e6, 0.0) == 0.0 and fm.fermi_dirac(-1e3, 1e6, 0.0) == 1.0
    # the finite-beta formula converges pointwise to the beta = inf values (incl. 1/2 at mu)
    np.testing.assert_allclose(fm.fermi_dirac(E, 1e4, 0.5), fm.fermi_dirac(E, np.inf, 0.5),
                               atol=1e-12)


@pytest.mark.parametrize("beta", [-1.0, np.nan, -np.inf])
def test_fermi_dirac_rejects_bad_beta(beta):
    with pytest.raises(ValueError, match="'beta'"):
        fm.fermi_dirac(0.0, beta, 0.0)


def test_fermi_dirac_rejects_bad_types_and_nan():
    with pytest.raises(TypeError, match="'beta'"):
        fm.fermi_dirac(0.0, "hot", 0.0)
    with pytest.raises(ValueError, match="'energy'"):
        fm.fermi_dirac([0.0, np.nan], 1.0, 0.0)
    with pytest.raises(ValueError, match="'mu'"):
        fm.fermi_dirac(0.0, 1.0, np.inf)


def test_momentum_distribution_validation():
    lat = ct.Lattice(2, 4)
    with pytest.raises(ValueError, match="0 <= J <= 1"):
        fm.as_momentum_distribution(lat, np.full(lat.shape, 1.2))
    with pytest.raises(ValueError, match="0 <= J <= 1"):
        fm.as_momentum_distribution(lat, np.full(lat.shape, -0.1))
    with pytest.raises(ValueError, match="finite"):
        fm.as_momentum_distribution(lat, np.full(lat.shape, np.nan))
    with pytest.raises(ValueError, match="shape"):
        fm.as_momentum_distribution(lat, np.full((4,), 0.5))
    with pytest.raises(TypeError):
        fm.as_momentum_distribution(lat, np.full(lat.shape, 0.5 + 0j))
    with pytest.raises(TypeError, match="'lattice'"):
        fm.as_momentum_distribution("lattice", np.full(lat.shape, 0.5))
    J = fm.as_momentum_distribution(lat, np.full(lat.shape, 0.5))
    assert J.dtype == np.float64


def test_gibbs_and_fermi_sea_helpers():
    lat = ct.Lattice(2, 8)
    np.testing.assert_array_equal(fm.gibbs_distribution(lat, np.inf, 0.0),
                                  fm.fermi_dirac(lat.dispersion(), np.inf, 0.0))
    # a shifted sea is the unshifted one translated by the shift on the grid
    shifted = fm.fermi_sea(lat, -1.0, shift=[2 / 8, 0.0])
    np.testing.assert_array_equal(shifted, np.roll(fm.fermi_sea(lat, -1.0), 2, axis=0))
    with pytest.raises(ValueError, match="anisotropy"):
        fm.fermi_sea(lat, 0.0, anisotropy=[1.0, -1.0])


# ------------------------------------------------------------------ density matrix

def test_density_matrix_is_brute_force_sum_of_plane_waves():
    lat = ct.Lattice(2, 5)
    rng = np.random.default_rng(1)
    J = rng.uniform(0, 1, lat.shape)
    x = np.indices(lat.shape).reshape(2, -1)
    k = np.indices(lat.shape).reshape(2, -1) / lat.L
    phases = np.exp(2j * np.pi * (k.T @ x))         # (p, site)
    brute = (phases.T * J.ravel()) @ phases.conj() / lat.num_sites
    gamma = fm.one_particle_density_matrix(lat, J)
    np.testing.assert_allclose(gamma, brute, atol=1e-14)   # rounding of 25-term sums
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(gamma)), np.sort(J.ravel()), atol=1e-13)
    psi = _random_functions(rng, 1, lat.shape)[0]
    np.testing.assert_allclose(fm.apply_density_matrix(lat, J, psi).ravel(), gamma @ psi.ravel(),
                               atol=1e-13)


def test_two_point_matrix_matches_dense_inner_products():
    lat = ct.Lattice(1, 7)
    rng = np.random.default_rng(2)
    J = rng.uniform(0, 1, lat.shape)
    f, g = _random_functions(rng, 3, lat.shape), _random_functions(rng, 2, lat.shape)
    gamma = fm.one_particle_density_matrix(lat, J)
    M = fm.two_point_matrix(lat, J, f, g)
    np.testing.assert_allclose(M, g.conj() @ gamma @ f.T, atol=1e-13)


def test_dense_density_matrix_refuses_when_memory_is_short(monkeypatch):
    monkeypatch.setattr(fm, "available_memory_bytes", lambda: 1000)
    with pytest.raises(ValueError, match="apply_density_matrix"):
        fm.one_particle_density_matrix(ct.Lattice(1, 8), np.zeros(8))


# ------------------------------------------------------------------ momentum distribution

@pytest.fixture(scope="module")
def small_system():
    lat = ct.Lattice(2, 6)
    H = ct.AndersonHamiltonian(lat, 0.6, ct.random_potential(lat, seed=7))
    J = fm.fermi_sea(lat, -0.5, shift=[1 / 6, 0.0], beta=3.0)
    return lat, H, J


def test_momentum_distribution_methods_agree_with_dense_expm(small_system):
    lat, H, J = small_system
    times = [0.0, 1.3, 4.0]
    U = scipy.linalg.expm(-1j * times[2] * H.to_sparse().toarray())
    gamma_t = U @ fm.one_particle_density_matrix(lat, J) @ U.conj().T
    F = np.fft.fftn(np.eye(lat.num_sites).reshape((-1,) + lat.shape), axes=(1, 2))
    F = F.reshape(lat.num_sites, -1).T / np.sqrt(lat.num_sites)     # F[p, x] = <p|x>
    reference = np.real(np.diag(F @ gamma_t @ F.conj().T)).reshape(lat.shape)
    dense = fm.evolved_momentum_distribution(H, J, times, method="dense")
    waves = fm.evolved_momentum_distribution(H, J, times, method="plane_waves", tol=1e-13)
    np.testing.assert_allclose(dense[0], J, atol=1e-13)
    np.testing.assert_allclose(dense[2], reference, atol=1e-12)
    np.testing.assert_allclose(waves, dense, atol=1e-11)   # Chebyshev tol 1e-13 per wave, 36 waves


def test_random_phase_estimator_is_unbiased(small_system):
    lat, H, J = small_system
    exact = fm.evolved_momentum_distribution(H, J, [2.5], method="dense")[0]
    est = fm.evolved_momentum_distribution(H, J, [2.5], method="random_phase", num_vectors=3000,
                                           seed=11)[0]
    # each vector gives |<p|U xi>|^2 with relative spread <= 1: 3000 vectors give <~2%
    # of max(n, 1 - n) <= 1 per momentum; 0.06 is ~3 standard deviations at the worst point
    assert np.abs(est - exact).max() < 0.06
    # and the average over momenta (particle number per site) is exact for every vector
    # (up to the propagation tolerance 1e-10 of each vector)
    assert abs(est.mean() - J.mean()) < 1e-9


def test_particle_number_is_conserved(small_system):
    lat, H, J = small_system
    n = fm.evolved_momentum_distribution(H, J, [0.0, 2.0, 9.0], method="dense")
    np.testing.assert_allclose(n.mean(axis=(1, 2)), J.mean(), atol=1e-13)
    assert n.min() > -1e-13 and n.max() < 1 + 1e-13          # Pauli principle at all times


# ------------------------------------------------------------------ stationarity

@pytest.mark.parametrize("beta", [0.5, 3.0, np.inf])
def test_fermi_dirac_is_stationary_for_the_boltzmann_operator(beta):
    """C[g(e)] = m (P g(e) - g(e)) = 0: the shell average of a function of the energy is itself."""
    for d, E in ((2, -1.3), (3, 0.7)):
        value, err = ct.shell_sampling.shell_average(
            lambda U: fm.fermi_dirac(ct.dispersion(U), beta, -0.2), E, d, num_samples=2000,
            seed=1)
        # exact shell samples: the integrand is constant on the shell, so the average is
        # g(E) to rounding and its Monte Carlo error is 0
        assert abs(value - fm.fermi_dirac(E, beta, -0.2)) < 1e-12 and err < 1e-12
    # on a grid, the closed-form solution keeps a finite-beta Gibbs state up to the energy
    # binning (slope of the Fermi function times the bin width 1e-3)
    lat = ct.Lattice(2, 64)
    J = fm.gibbs_distribution(lat, beta if np.isfinite(beta) else 3.0, -0.2)
    F = bz.homogeneous_solution(J, [0.5, 4.0], bin_width=1e-3)
    assert np.abs(F - J).max() < 1e-3


def test_averaged_dynamics_keeps_gibbs_state_to_order_eta_squared():
    """Small configuration, dense evolution: the Gibbs state moves by O(eta^2), a shifted sea by O(1)."""
    lat = ct.Lattice(2, 12)
    T = np.array([0.0, 1.5])
    gibbs = fm.gibbs_distribution(lat, 2.0, -1.0)
    shifted = fm.fermi_sea(lat, -1.0, shift=[2 / 12, 0.0], beta=2.0)
    change = {}
    for name, J in (("gibbs", gibbs), ("shifted", shifted)):
        acc = 0.0
        for r, s in enumerate(ct.realization_seeds(3, 6)):
            n = fm.momentum_distribution_realization(s, d=2, L=12, eta=0.3, J=J, T=T,
                                                     method="dense")["distribution"]
            acc = acc + n / 6
        change[name] = np.abs(acc[1] - acc[0]).max()
    # Gibbs: the dressing by the potential is ~eta^2 x (slope of J ~ beta/4): measured 0.03;
    # 0.08 leaves room for 6 realizations' noise, still far below the shifted sea's O(1) change
    assert change["gibbs"] < 0.08
    assert change["shifted"] > 0.3


# ------------------------------------------------------------------ averaged correlations

def test_quasi_free_deviation_vanishes_without_disorder_and_at_time_zero():
    lat = ct.Lattice(2, 16)
    J = fm.fermi_sea(lat, -1.0, shift=[0.125, 0.0])
    f = np.array([fm.momentum_packet(lat, [1 / 6, 0.5], 0.05),
                  fm.momentum_packet(lat, [5 / 6, 0.5], 0.05)])
    out = fm.quasi_free_deviation(4, 1, d=2, L=16, eta=0.5, J=J, f=f, g=f, T=[0.0, 0.5])
    # at T = 0 the state is deterministic and quasi-free: the deviation is rounding
    assert abs(out["deviation"][0]) < 1e-14
    # Pauli principle: the averaged 4-point function of (f1, f2) lies in [0, 1]
    assert np.all(out["correlation"].real > -1e-14) and np.all(out["correlation"].real < 1)
    # and matches the free evolution (eta -> 0 limit of the deterministic part) at T = 0
    np.testing.assert_allclose(out["two_point"][0], fm.two_point_matrix(lat, J, f, f), atol=1e-14)


def test_momentum_packet_is_normalised_and_centred():
    lat = ct.Lattice(2, 32)
    f = fm.momentum_packet(lat, [0.2, 0.7], 0.05)
    assert abs(np.linalg.norm(f) - 1) < 1e-14
    # |f|^2 is centred at the middle site (the origin of the centred coordinates)
    x = lat.coordinates()
    assert abs(float((np.abs(f) ** 2 * x[0]).sum())) < 1e-10
    p = np.abs(np.fft.fftn(f)) ** 2
    assert np.unravel_index(np.argmax(p), p.shape) == (round(0.2 * 32), round(0.7 * 32))


def test_bad_inputs_are_rejected_with_clear_errors(small_system):
    lat, H, J = small_system
    with pytest.raises(ValueError, match="'method'"):
        fm.evolved_momentum_distribution(H, J, [1.0], method="fast")
    with pytest.raises(TypeError, match="'hamiltonian'"):
        fm.evolved_momentum_distribution("H", J, [1.0])
    with pytest.raises(ValueError, match="0 <= J <= 1"):
        fm.evolved_two_point_matrix(H, J + 0.5, J.astype(complex), J.astype(complex), [1.0])
    with pytest.raises(ValueError, match="'f'"):
        fm.two_point_matrix(lat, J, np.ones((2, 3)), np.ones(lat.shape))
    with pytest.raises(ValueError, match="observables"):
        fm.momentum_distribution_realization(0, d=2, L=6, eta=0.5, J=J, T=[1.0],
                                             observables={"x": np.ones(3)})
    with pytest.raises(ValueError, match="'eta'"):
        fm.momentum_distribution_realization(0, d=2, L=6, eta=0.0, J=J, T=[1.0])
    with pytest.raises(ValueError, match="num_realizations"):
        fm.quasi_free_deviation(1, 0, d=2, L=6, eta=0.5, J=J, f=np.ones(lat.shape),
                                g=np.ones(lat.shape), T=[1.0])
    with pytest.raises(ValueError, match="square"):
        fm.wick_determinant(np.ones((2, 3)))


def test_realization_is_reproducible_from_its_seed():
    lat = ct.Lattice(2, 8)
    J = fm.fermi_sea(lat, -1.0, shift=[0.125, 0.0])
    seed = ct.realization_seeds(4, 1)[0]
    kw = dict(d=2, L=8, eta=0.5, J=J, T=[1.0], method="random_phase", num_vectors=2)
    a = fm.momentum_distribution_realization(seed, **kw)["distribution"]
    b = fm.momentum_distribution_realization(seed, **kw)["distribution"]   # same object again
    c = fm.momentum_distribution_realization(ct.realization_seeds(4, 1)[0], **kw)["distribution"]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


# ------------------------------------------------------------------ twisted boxes

def _twisted_plane_waves(lat):
    """Brute-force plane waves phi_p(x) = L^{-d/2} exp(2 pi i p.x) on the twisted grid,
    rows p in the order of lat.momenta(), columns the sites (centred coordinates)."""
    k = np.stack([np.broadcast_to(ki, lat.shape).ravel() for ki in lat.momenta()])
    x = np.stack([np.broadcast_to(xi, lat.shape).ravel() for xi in lat.coordinates()])
    return np.exp(2j * np.pi * (k.T @ x)) / np.sqrt(lat.num_sites)


@pytest.mark.parametrize("d, L, twist", [(1, 7, (0.37,)), (2, 5, (0.21, 0.64))])
def test_density_matrix_on_a_twisted_box_is_the_sum_of_its_plane_waves(d, L, twist):
    lat = ct.Lattice(d, L, twist=twist)
    rng = np.random.default_rng(3)
    J = rng.uniform(0, 1, lat.shape)
    phi = _twisted_plane_waves(lat)
    brute = (phi.T * J.ravel()) @ phi.conj()          # sum_p J(p) |phi_p><phi_p|
    np.testing.assert_allclose(fm.one_particle_density_matrix(lat, J), brute, atol=1e-14)
    psi = _random_functions(rng, 1, lat.shape)[0]
    np.testing.assert_allclose(fm.apply_density_matrix(lat, J, psi).ravel(), brute @ psi.ravel(),
                               atol=1e-13)
    f, g = _random_functions(rng, 2, lat.shape), _random_functions(rng, 3, lat.shape)
    M = fm.two_point_matrix(lat, J, f, g)
    np.testing.assert_allclose(M, g.reshape(3, -1).conj() @ brute @ f.reshape(2, -1).T,
                               atol=1e-12)


def test_momentum_distribution_on_a_twisted_box_matches_dense_expm():
    lat = ct.Lattice(2, 6, twist=(0.3, 0.8))
    H = ct.AndersonHamiltonian(lat, 0.6, ct.random_potential(lat, seed=7))
    J = fm.fermi_sea(lat, -0.5, shift=[0.1, 0.0], beta=3.0)
    t = 3.0
    U = scipy.linalg.expm(-1j * t * H.to_sparse().toarray())
    phi = _twisted_plane_waves(lat)                     # rows: <x|phi_p> as functions of x
    A = phi.conj() @ U @ phi.T                          # <phi_p|U|phi_q>
    reference = ((np.abs(A) ** 2) @ J.ravel()).reshape(lat.shape)
    for method in ("dense", "plane_waves"):
        n = fm.evolved_momentum_distribution(H, J, [0.0, t], method=method, tol=1e-13)
        np.testing.assert_allclose(n[0], J, atol=1e-12)
        np.testing.assert_allclose(n[1], reference, atol=1e-11)
    # the random-phase vectors are exact at t = 0 on a twisted box too
    n = fm.evolved_momentum_distribution(H, J, [0.0], method="random_phase", num_vectors=1,
                                         seed=1)
    np.testing.assert_allclose(n[0], J, atol=1e-13)


def test_momentum_packet_on_a_twisted_box_is_centred_at_its_momentum():
    lat = ct.Lattice(2, 32, twist=(0.5, 0.25))
    k0 = (0.2, 0.7)
    f = fm.momentum_packet(lat, k0, 0.05)
    assert abs(np.linalg.norm(f) - 1) < 1e-14
    x = lat.coordinates()
    assert abs(float((np.abs(f) ** 2 * x[0]).sum())) < 1e-10
    # its components on the twisted plane waves peak at the grid momentum nearest k0
    c = np.abs(_twisted_plane_waves(lat).conj() @ f.ravel()).reshape(lat.shape)
    k = [np.broadcast_to(ki, lat.shape)[np.unravel_index(np.argmax(c), c.shape)]
         for ki in lat.momenta()]
    assert all(abs(ki - k0i) <= 0.5 / lat.L for ki, k0i in zip(k, k0))


# ------------------------------------------------------------------ Boltzmann observables

def test_boltzmann_current_is_the_closed_form_solution_projected_on_v1():
    """<v_1, F_T> of bz.homogeneous_solution (binned shells and rates) against the
    unscattered-particle formula with exact rates: equal up to the O(w) binning."""
    lat = ct.Lattice(2, 128)
    J = fm.fermi_sea(lat, -1.0, shift=[0.08, 0.0])
    T = np.array([0.0, 0.5, 2.0])
    v1 = -2 * np.sin(2 * np.pi * lat.momenta()[0]) * np.ones(lat.shape)
    F = bz.homogeneous_solution(J, T, bin_width=1e-3)
    binned = (F * v1).reshape(len(T), -1).mean(axis=1)
    exact = fm.boltzmann_observable(lat, J, "current", T)
    assert exact[0] == pytest.approx((J * v1).mean(), rel=1e-13)
    # rates differ by the variation of rho over a bin of width 1e-3 (relative ~1e-3)
    np.testing.assert_allclose(exact, binned, rtol=2e-3)
    # the kinetic energy is kept; the quadrupole of a Gibbs state is zero
    e = fm.boltzmann_observable(lat, J, "kinetic_energy", T)
    np.testing.assert_allclose(e, (J * lat.dispersion()).mean(), rtol=1e-13)
    gibbs = fm.gibbs_distribution(lat, 2.0, -1.0)
    assert np.abs(fm.boltzmann_observable(lat, gibbs, "quadrupole", T)).max() < 1e-15


def test_twist_average_of_the_boltzmann_current_is_the_torus_integral():
    T = [0.0, 1.0]
    fine = ct.Lattice(2, 1024, twist=(0.5, 0.5))
    reference = fm.boltzmann_observable(fine, fm.fermi_sea(fine, -1.0, shift=[0.08, 0.0]),
                                        "current", T)
    rng = np.random.default_rng(0)
    values = []
    for _ in range(200):
        lat = ct.Lattice(2, 24, twist=tuple(rng.random(2)))
        values.append(fm.boltzmann_observable(lat, fm.fermi_sea(lat, -1.0, shift=[0.08, 0.0]),
                                              "current", T))
    values = np.array(values)
    se = values.std(axis=0, ddof=1) / np.sqrt(len(values))
    # 4 standard errors of the twist average (plus the fine grid's own ~1e-5)
    assert np.all(np.abs(values.mean(axis=0) - reference) < 4 * se + 1e-5)


def test_boltzmann_observable_rejects_bad_input():
    lat = ct.Lattice(2, 8)
    J = fm.gibbs_distribution(lat, 1.0, 0.0)
    with pytest.raises(ValueError, match="'name'"):
        fm.boltzmann_observable(lat, J, "spin", [0.0])
    with pytest.raises(ValueError, match="'T'"):
        fm.boltzmann_observable(lat, J, "current", [-1.0])
    with pytest.raises(ValueError, match="d >= 2"):
        fm.boltzmann_observable(ct.Lattice(1, 8), np.full(8, 0.5), "quadrupole", [0.0])


def test_twisted_realization_uses_its_own_twist_and_pairs_boltzmann():
    seed = ct.realization_seeds(9, 1)[0]
    sea = {"mu": -1.0, "shift": [0.1, 0.0]}
    out = fm.momentum_distribution_realization(seed, d=2, L=12, eta=0.4, J=sea, T=[0.0, 1.0],
                                               method="dense", twist=True,
                                               observables=["current", "kinetic_energy"])
    real = ct.rng.Realization(seed)
    lat = ct.Lattice(2, 12, twist=real.twist(2))
    H = real.hamiltonian(lat, 0.4)
    J = fm.fermi_sea(lat, **sea)
    n = fm.evolved_momentum_distribution(H, J, np.array([0.0, 1.0]) / 0.4**2, method="dense")
    np.testing.assert_array_equal(out["distribution"], n)
    v1 = -2 * np.sin(2 * np.pi * lat.momenta()[0]) * np.ones(lat.shape)
    np.testing.assert_allclose(out["current"], (n * v1).reshape(2, -1).mean(axis=1), rtol=1e-13)
    np.testing.assert_allclose(out["current_boltzmann"],
                               fm.boltzmann_observable(lat, J, "current", [0.0, 1.0]))
    assert out["current"][0] == pytest.approx(out["current_boltzmann"][0], rel=1e-12)
    # an array J belongs to one grid: refused on twisted boxes, as are weight arrays
    with pytest.raises(ValueError, match="dict of fermi_sea keywords"):
        fm.momentum_distribution_realization(seed, d=2, L=12, eta=0.4, J=J, T=[0.0], twist=True)
    with pytest.raises(ValueError, match="names of"):
        fm.momentum_distribution_realization(seed, d=2, L=12, eta=0.4, J=sea, T=[0.0],
                                             twist=True, observables={"w": v1})
    with pytest.raises(ValueError, match="'observables'"):
        fm.momentum_distribution_realization(seed, d=2, L=12, eta=0.4, J=sea, T=[0.0],
                                             observables=["spin"])
    with pytest.raises(ValueError, match="keywords"):
        fm.momentum_distribution_realization(seed, d=2, L=12, eta=0.4, J={"mu": 0, "T": 1},
                                             T=[0.0])


# ------------------------------------------------------------------ second-order dressing

def _brute_force_gain(lat, J, t):
    e, Jf = lat.dispersion().ravel(), J.ravel()
    omega = e[:, None] - e[None, :]                    # e(p) - e(q), rows p
    with np.errstate(divide="ignore", invalid="ignore"):
        if np.isinf(t):
            kernel = np.where(np.abs(omega) < 1e-12, 0.0, 1.0 / omega)
        else:
            kernel = np.where(omega == 0, 0.0, (1 - np.cos(omega * t)) / omega)
    return ((Jf[None, :] - Jf[:, None]) * kernel).sum() / e.size**2


@pytest.mark.parametrize("t, shift", [(0.7, 0.1), (4.0, 0.1), (np.inf, 0.0)])
def test_second_order_gain_is_the_double_sum_over_the_grid(t, shift):
    # t = inf on a grid is a discrete principal value: well conditioned only for J a
    # function of e (then J(q) - J(p) = O(e(q) - e(p))), hence no shift there
    lat = ct.Lattice(2, 10, twist=(0.13, 0.41))
    J = fm.fermi_sea(lat, -0.8, shift=[shift, 0.0], beta=3.0)
    got = fm.second_order_kinetic_gain(lat, J, t, intermediate="grid", bin_width=1e-6)
    # bins of 1e-6 move each energy by <= 5e-7: relative error ~1e-6 x t
    assert got == pytest.approx(_brute_force_gain(lat, J, t), rel=1e-5, abs=1e-9)


def test_second_order_gain_vanishes_at_half_filling_and_is_positive_for_decreasing_J():
    lat = ct.Lattice(3, 12)
    assert fm.second_order_kinetic_gain(lat, np.full(lat.shape, 0.5), [1.0, np.inf]).tolist() \
        == [0.0, 0.0]
    for beta in (0.5, 4.0, np.inf):
        J = fm.gibbs_distribution(lat, beta, -1.0)
        assert fm.second_order_kinetic_gain(lat, J) > 0
        # the grid's own intermediate states converge to the continuum as L grows
    big = ct.Lattice(2, 512)
    J = fm.gibbs_distribution(big, np.inf, -1.0)
    assert fm.second_order_kinetic_gain(big, J, intermediate="grid") == pytest.approx(
        fm.second_order_kinetic_gain(big, J), rel=2e-3)


def test_second_order_gain_predicts_the_dressing_of_a_gibbs_state():
    """Dense evolution at small eta, antithetic pairs (V, -V) to cancel the odd orders:
    the averaged kinetic-energy gain / eta^2 is c_J(t) of the same grid, within errors."""
    lat = ct.Lattice(2, 16)
    J = fm.gibbs_distribution(lat, 2.0, -1.0)
    eta, t = 0.05, 4.0
    e = lat.dispersion()
    gains = []
    for s in ct.realization_seeds(12, 12):
        V = ct.random_potential(lat, seed=s)
        pair = []
        for sign in (1.0, -1.0):
            H = ct.AndersonHamiltonian(lat, eta, sign * V)
            n = fm.evolved_momentum_distribution(H, J, [t], method="dense")[0]
            pair.append(((n - J) * e).mean() / eta**2)
        gains.append(np.mean(pair))
    gains = np.array(gains)
    predicted = fm.second_order_kinetic_gain(lat, J, t, intermediate="grid", bin_width=1e-5)
    se = gains.std(ddof=1) / np.sqrt(len(gains))
    # 4 standard errors plus the O(eta^2) relative correction of the next even order
    assert abs(gains.mean() - predicted) < 4 * se + 0.05 * abs(predicted)


def test_second_order_gain_rejects_bad_input():
    lat = ct.Lattice(2, 8)
    J = fm.gibbs_distribution(lat, 1.0, 0.0)
    with pytest.raises(ValueError, match="'intermediate'"):
        fm.second_order_kinetic_gain(lat, J, intermediate="box")
    with pytest.raises(ValueError, match="'t'"):
        fm.second_order_kinetic_gain(lat, J, -1.0)
    with pytest.raises(ValueError, match="'bin_width'"):
        fm.second_order_kinetic_gain(lat, J, bin_width=0.0)
