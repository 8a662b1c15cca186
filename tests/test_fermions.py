"""Unit tests for chargetransport.fermions: the evolution of quasi-free states of the ideal
Fermi gas in a random medium, and the disorder experiments of section 5.

References are independent computations: dense matrix exponentials of the
one-particle Hamiltonian, brute-force sums, closed forms; the exact many-body dynamics
on the Fock space is the reference of test_fock_space.py.
"""
import numpy as np
import pytest
import scipy.linalg

import chargetransport as ct
from chargetransport import fermi_kinetics as fk
from chargetransport import fermions as fm
from chargetransport import quasi_free_states as qfs
from test_quasi_free_states import _twisted_plane_waves


# ------------------------------------------------------------------ momentum distribution

@pytest.fixture(scope="module")
def small_system():
    lat = ct.Lattice(2, 6)
    H = ct.AndersonHamiltonian(lat, 0.6, ct.random_potential(lat, seed=7))
    J = qfs.fermi_sea(lat, -0.5, shift=[1 / 6, 0.0], beta=3.0)
    return lat, H, J


def test_momentum_distribution_methods_agree_with_dense_expm(small_system):
    lat, H, J = small_system
    times = [0.0, 1.3, 4.0]
    U = scipy.linalg.expm(-1j * times[2] * H.to_sparse().toarray())
    gamma_t = U @ qfs.one_particle_density_matrix(lat, J) @ U.conj().T
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

def test_averaged_dynamics_keeps_gibbs_state_to_order_eta_squared():
    """Small configuration, dense evolution: the Gibbs state moves by O(eta^2), a shifted sea by O(1)."""
    lat = ct.Lattice(2, 12)
    T = np.array([0.0, 1.5])
    gibbs = qfs.gibbs_distribution(lat, 2.0, -1.0)
    shifted = qfs.fermi_sea(lat, -1.0, shift=[2 / 12, 0.0], beta=2.0)
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
    J = qfs.fermi_sea(lat, -1.0, shift=[0.125, 0.0])
    f = np.array([qfs.momentum_packet(lat, [1 / 6, 0.5], 0.05),
                  qfs.momentum_packet(lat, [5 / 6, 0.5], 0.05)])
    out = fm.quasi_free_deviation(4, 1, d=2, L=16, eta=0.5, J=J, f=f, g=f, T=[0.0, 0.5])
    # at T = 0 the state is deterministic and quasi-free: the deviation is rounding
    assert abs(out["deviation"][0]) < 1e-14
    # Pauli principle: the averaged 4-point function of (f1, f2) lies in [0, 1]
    assert np.all(out["correlation"].real > -1e-14) and np.all(out["correlation"].real < 1)
    # and matches the free evolution (eta -> 0 limit of the deterministic part) at T = 0
    np.testing.assert_allclose(out["two_point"][0], qfs.two_point_matrix(lat, J, f, f), atol=1e-14)


def test_bad_inputs_are_rejected_with_clear_errors(small_system):
    lat, H, J = small_system
    with pytest.raises(ValueError, match="'method'"):
        fm.evolved_momentum_distribution(H, J, [1.0], method="fast")
    with pytest.raises(TypeError, match="'hamiltonian'"):
        fm.evolved_momentum_distribution("H", J, [1.0])
    with pytest.raises(ValueError, match="0 <= J <= 1"):
        fm.evolved_two_point_matrix(H, J + 0.5, J.astype(complex), J.astype(complex), [1.0])
    with pytest.raises(ValueError, match="observables"):
        fm.momentum_distribution_realization(0, d=2, L=6, eta=0.5, J=J, T=[1.0],
                                             observables={"x": np.ones(3)})
    with pytest.raises(ValueError, match="'eta'"):
        fm.momentum_distribution_realization(0, d=2, L=6, eta=0.0, J=J, T=[1.0])
    with pytest.raises(ValueError, match="num_realizations"):
        fm.quasi_free_deviation(1, 0, d=2, L=6, eta=0.5, J=J, f=np.ones(lat.shape),
                                g=np.ones(lat.shape), T=[1.0])


def test_realization_is_reproducible_from_its_seed():
    lat = ct.Lattice(2, 8)
    J = qfs.fermi_sea(lat, -1.0, shift=[0.125, 0.0])
    seed = ct.realization_seeds(4, 1)[0]
    kw = dict(d=2, L=8, eta=0.5, J=J, T=[1.0], method="random_phase", num_vectors=2)
    a = fm.momentum_distribution_realization(seed, **kw)["distribution"]
    b = fm.momentum_distribution_realization(seed, **kw)["distribution"]   # same object again
    c = fm.momentum_distribution_realization(ct.realization_seeds(4, 1)[0], **kw)["distribution"]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


# ------------------------------------------------------------------ twisted boxes

def test_momentum_distribution_on_a_twisted_box_matches_dense_expm():
    lat = ct.Lattice(2, 6, twist=(0.3, 0.8))
    H = ct.AndersonHamiltonian(lat, 0.6, ct.random_potential(lat, seed=7))
    J = qfs.fermi_sea(lat, -0.5, shift=[0.1, 0.0], beta=3.0)
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


def test_twisted_realization_uses_its_own_twist_and_pairs_boltzmann():
    seed = ct.realization_seeds(9, 1)[0]
    sea = {"mu": -1.0, "shift": [0.1, 0.0]}
    out = fm.momentum_distribution_realization(seed, d=2, L=12, eta=0.4, J=sea, T=[0.0, 1.0],
                                               method="dense", twist=True,
                                               observables=["current", "kinetic_energy"])
    real = ct.rng.Realization(seed)
    lat = ct.Lattice(2, 12, twist=real.twist(2))
    H = real.hamiltonian(lat, 0.4)
    J = qfs.fermi_sea(lat, **sea)
    n = fm.evolved_momentum_distribution(H, J, np.array([0.0, 1.0]) / 0.4**2, method="dense")
    np.testing.assert_array_equal(out["distribution"], n)
    v1 = -2 * np.sin(2 * np.pi * lat.momenta()[0]) * np.ones(lat.shape)
    np.testing.assert_allclose(out["current"], (n * v1).reshape(2, -1).mean(axis=1), rtol=1e-13)
    np.testing.assert_allclose(out["current_boltzmann"],
                               fk.boltzmann_observable(lat, J, "current", [0.0, 1.0]))
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
