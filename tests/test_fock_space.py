"""Unit tests for chargetransport.fock_space: the exact Fock space of a few sites.

The canonical anticommutation relations, and the Fock-space evolution of quasi-free
states against the one-particle reduction of chargetransport.fermions and Wick's rule of
chargetransport.quasi_free_states.
"""
import itertools

import numpy as np
import pytest

import chargetransport as ct
from chargetransport import fermions as fm
from chargetransport import quasi_free_states as qfs
from chargetransport.fock_space import FockSpace
from test_quasi_free_states import _random_functions


# ------------------------------------------------------------------ Fock space

def test_fock_space_car_relations():
    fs = FockSpace(4)
    a = [fs.annihilator(np.eye(4)[x]) for x in range(4)]
    I = np.eye(fs.dim)
    for x, y in itertools.product(range(4), repeat=2):
        np.testing.assert_array_equal((a[x] @ a[y].conj().T + a[y].conj().T @ a[x]).toarray(),
                                      I * (x == y))
        np.testing.assert_array_equal((a[x] @ a[y] + a[y] @ a[x]).toarray(), 0 * I)


@pytest.mark.parametrize("d, L", [(1, 10), (2, 3)])
def test_fock_space_dynamics_matches_one_particle_reduction(d, L):
    """Many-body evolution of a quasi-free state vs gamma_t = U gamma U^*: 2- and 4-point functions."""
    lat = ct.Lattice(d, L)
    rng = np.random.default_rng(3)
    J = rng.uniform(0.05, 0.95, lat.shape)       # strictly inside (0, 1): a Gibbs form exists
    H = ct.AndersonHamiltonian(lat, 0.8, ct.random_potential(lat, seed=4))
    fs = FockSpace(lat.num_sites)
    state0 = fs.quasi_free_state(qfs.one_particle_density_matrix(lat, J))
    f, g = _random_functions(rng, 2, lat.shape), _random_functions(rng, 2, lat.shape)
    times = [0.0, 0.7, 3.1]
    M = fm.evolved_two_point_matrix(H, J, f, g, times, tol=1e-14)
    h = H.to_sparse().toarray()
    four = fs.creator(f[0].ravel()) @ fs.creator(f[1].ravel()) @ fs.annihilator(g[1].ravel()) \
        @ fs.annihilator(g[0].ravel())
    for i, t in enumerate(times):
        state = fs.evolve(state0, h, t)
        two = np.array([[fs.expectation(state, fs.creator(f[j].ravel()) @ fs.annihilator(g[k].ravel()))
                         for j in range(2)] for k in range(2)])
        # 1e-10 absolute on O(1..10) entries: Chebyshev tol 1e-14 and dense eigh rounding
        np.testing.assert_allclose(M[i], two, atol=1e-10)
        np.testing.assert_allclose(qfs.wick_determinant(M[i]), fs.expectation(state, four), atol=1e-10)


def _random_quasi_free_ring(L, seed, r):
    """A quasi-free state of random J on the ring of L sites, in Fock space, and r pairs (f, g)."""
    lat = ct.Lattice(1, L)
    rng = np.random.default_rng(seed)
    J = rng.uniform(0.1, 0.9, lat.shape)
    fs = FockSpace(L)
    state = fs.quasi_free_state(qfs.one_particle_density_matrix(lat, J))
    f, g = _random_functions(rng, r, lat.shape), _random_functions(rng, r, lat.shape)
    return lat, J, fs, state, f, g


def test_paper_order_of_annihilators_changes_sign_as_stated():
    # rho(a+(f1) a+(f2) a(g1) a(g2)) = -det M for r = 2: (-1)^{r(r-1)/2}
    lat, J, fs, state, f, g = _random_quasi_free_ring(6, seed=5, r=2)
    paper = fs.creator(f[0]) @ fs.creator(f[1]) @ fs.annihilator(g[0]) @ fs.annihilator(g[1])
    det = qfs.wick_determinant(qfs.two_point_matrix(lat, J, f, g))
    np.testing.assert_allclose(fs.expectation(state, paper), -det, atol=1e-12)


def test_six_point_function_is_a_determinant():
    lat, J, fs, state, f, g = _random_quasi_free_ring(7, seed=6, r=3)
    op = fs.creator(f[0]) @ fs.creator(f[1]) @ fs.creator(f[2]) @ fs.annihilator(g[2]) \
        @ fs.annihilator(g[1]) @ fs.annihilator(g[0])
    det = qfs.wick_determinant(qfs.two_point_matrix(lat, J, f, g))
    np.testing.assert_allclose(fs.expectation(state, op), det, rtol=1e-10)


def test_quasi_free_state_rejects_pure_occupations():
    fs = FockSpace(3)
    with pytest.raises(ValueError, match="strictly inside"):
        fs.quasi_free_state(np.diag([1.0, 0.5, 0.2]))


def test_fock_space_rejects_too_many_sites():
    with pytest.raises(ValueError, match="'num_sites'"):
        FockSpace(20)
