"""Unit tests for chargetransport.hartree_fock_stationary: the fixed-point equation (6.43)."""
import math
import warnings

import numpy as np
import pytest
from scipy import optimize

import chargetransport as ct
from chargetransport import boltzmann as bz
from chargetransport import hartree_fock_stationary as stationary
from chargetransport import hartree_fock_terms as hft
from chargetransport import shells
from chargetransport.quasi_free_states import fermi_sea, gibbs_distribution


# --------------------------------------------------------------------------------------
# Level surfaces and the fixed-point solver
# --------------------------------------------------------------------------------------
def test_fixed_point_at_lambda_zero_is_the_linear_boltzmann_limit():
    lat = ct.Lattice(2, 128)
    J = fermi_sea(lat, 0.5, shift=(0.15, 0.05), beta=2.0)
    st = stationary.solve_stationary_state(J, hft.gaussian_pair_potential(lat), 0.0,
                                           width=0.02, damping=1.0)
    assert st.converged and st.iterations == 2  # one step to P_e J, one to see no change
    np.testing.assert_array_equal(st.F, shells.level_set_average(J, lat.dispersion(), 0.02))
    # long-time limit of the closed-form linear Boltzmann solution, whose hard energy
    # bins (0.01) deviate from exact shell averages by up to 0.015 on this grid (they
    # can hold a single symmetry class of grid momenta): rms difference measured 0.020
    limit = bz.homogeneous_solution(J, 200.0)
    assert np.sqrt(np.mean((st.F - limit) ** 2)) < 0.03
    # and the mass: P is not exactly mass-conserving with a Gaussian (the weights of
    # neighbouring shells differ), but to ~1e-4 here
    assert abs(st.F.mean() - J.mean()) < 1e-3


def test_fixed_point_with_nearest_neighbour_potential_matches_the_scalar_self_consistency():
    """v = g0 at 0, g1 at the neighbours: kappa = g0 n + g1 c1 e with c1 = <F cos 2pi u_1>,
    so Ebar = a e + b is a function of e and F = P_e^{w/a} mu0 with a = 1 - lam g1 c1."""
    lat = ct.Lattice(2, 64)
    g0, g1, lam, w = 1.0, 0.5, 3.0, 0.04
    v = np.zeros(lat.shape)
    v[0, 0] = g0
    v[1, 0] = v[-1, 0] = v[0, 1] = v[0, -1] = g1
    e = lat.dispersion()
    mu0 = gibbs_distribution(lat, 2.0, 0.5)
    cos1 = np.cos(2 * np.pi * lat.momenta()[0]) * np.ones(lat.shape)

    def solution(c1):
        return shells.level_set_average(mu0, (1 - lam * g1 * c1) * e, w)

    c1 = optimize.brentq(lambda c: np.mean(solution(c) * cos1) - c, -0.3, 0.3, xtol=1e-14)
    st = stationary.solve_stationary_state(mu0, v, lam, width=w, damping=1.0, tol=1e-13)
    assert st.converged
    # the solver's tol 1e-13 and brentq's 1e-14 on c1 (times |d F / d c1| ~ 10): 1e-11
    np.testing.assert_allclose(st.F, solution(c1), atol=1e-11)
    assert st.residual < 1e-11


def test_fixed_point_solver_reports_non_convergence_and_damping_cures_it():
    lat = ct.Lattice(2, 64)
    v = hft.gaussian_pair_potential(lat, 1.0, 1.5)
    J = gibbs_distribution(lat, np.inf, 0.5)
    with pytest.warns(RuntimeWarning, match="did not converge"):
        bad = stationary.solve_stationary_state(J, v, 16.0, width=0.02, damping=1.0,
                                                max_iter=100)
    assert not bad.converged and bad.iterations == 100
    assert bad.contraction > 0.9 and bad.residual > 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        good = stationary.solve_stationary_state(J, v, 16.0, width=0.02, damping=0.3)
    assert good.converged and good.residual < 1e-9
    assert good.contraction < 0.9


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------
def test_bad_input_is_rejected_with_named_parameters():
    lat = ct.Lattice(2, 16)
    v = hft.gaussian_pair_potential(lat)
    J = gibbs_distribution(lat, 1.0, 0.0)
    with pytest.raises(ValueError, match="'mu0' must satisfy"):
        stationary.solve_stationary_state(-J, v, 1.0)
    with pytest.raises(ValueError, match="'lam' must be finite"):
        stationary.solve_stationary_state(J, v, math.inf)
    with pytest.raises(ValueError, match="'damping' must be <= 1"):
        stationary.solve_stationary_state(J, v, 1.0, damping=1.5)
