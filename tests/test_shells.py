"""Energy shells of a grid (chargetransport.shells): level sets, energy bins, symmetrization.

The references: the Boltzmann collision rate 2 pi rho(e); exact shell samples
(chargetransport.shell_sampling) for the smoothed grid averages; and the algebra of a
projection for the energy bins.
"""
import numpy as np
import pytest

import chargetransport as ct
from chargetransport import boltzmann as bz
from chargetransport import shell_sampling, shells
from chargetransport.quasi_free_states import fermi_dirac, fermi_sea


# --------------------------------------------------------------------------------------
# Smoothed level sets on a grid
# --------------------------------------------------------------------------------------
def test_level_set_measure_tends_to_the_boltzmann_collision_rate():
    lat = ct.Lattice(2, 256)
    e = lat.dispersion()
    m = shells.level_set_measure(e, width=0.02)
    away = (np.abs(e) > 0.5) & (np.abs(e) < 3.5)  # away from the van Hove point and band edges
    rate = bz.collision_rate(e[away], 2)
    # Gaussian smoothing of rho by w = 0.02 changes it by O(w^2 rho'') < 1%; the grid
    # sum by O(1/(L w)) ~ 0.2%: allow 2%
    np.testing.assert_allclose(m[away], rate, rtol=0.02)


def test_level_set_average_of_a_function_of_the_energy_is_itself():
    lat = ct.Lattice(2, 64)
    e = lat.dispersion()
    F = 0.5 + 0.4 * np.tanh(e / 2)
    # measured <= 3.4e-3: on a 64^2 grid the energies cluster on few values per shell
    # (square-lattice degeneracies), so a Gaussian of width 0.02 weights neighbouring
    # shells unevenly, an error of order slope * w ~ 4e-3 (O(w^2 F'') alone is 4e-5)
    np.testing.assert_allclose(shells.level_set_average(F, e, 0.02), F, atol=5e-3)
    assert shells.equidistribution_defect(F, e, 0.01) < 1e-2
    G = fermi_sea(lat, 0.0, shift=(0.2, 0.0), beta=3.0)  # not a function of e
    assert shells.equidistribution_defect(G, e) > 0.3


def _displaced_sea(k, shift=(0.15, 0.05), beta=2.0, mu=0.5):
    k = np.asarray(k)
    es = sum(2 * np.cos(2 * np.pi * (k[..., i] - shift[i])) for i in range(2))
    return fermi_dirac(es, beta, mu)


def test_level_set_average_matches_exact_shell_samples():
    lat = ct.Lattice(2, 128)
    e = lat.dispersion()
    J = _displaced_sea(np.stack(lat.momenta(sparse=False), axis=-1))
    P = shells.level_set_average(J, e, 0.02)
    for E in (-3.0, -2.0, -1.0, 0.7, 1.5, 2.5, 3.5):
        i = np.argmin(np.abs(e - E))
        exact, se = shell_sampling.shell_average(_displaced_sea, float(e.flat[i]), 2,
                                                 num_samples=100_000)
        # grid shells smoothed by w = 0.02 vs exact shell samples: measured <= 4.5e-3
        # (at E = -2, a highly degenerate grid shell); Monte Carlo error ~1e-3
        assert abs(P.flat[i] - exact) < 8e-3 + 4 * se, E


def test_symmetrize_averages_over_the_point_group():
    lat = ct.Lattice(2, 8)
    F = ct.as_generator(2).uniform(size=lat.shape)
    S = shells.symmetrize(F)
    np.testing.assert_allclose(S, S.T, atol=1e-15)
    np.testing.assert_allclose(S, shells._reflect(S), atol=1e-15)
    assert S.mean() == pytest.approx(F.mean(), abs=1e-15)
    E = lat.dispersion()
    np.testing.assert_allclose(shells.symmetrize(E), E, atol=1e-14)


# --------------------------------------------------------------------------------------
# Energy bins on a grid
# --------------------------------------------------------------------------------------
def test_energy_bins_project_like_a_conditional_expectation():
    lat = ct.Lattice(2, 48)
    e = lat.dispersion()
    bins = shells.EnergyBins(e, 0.1, origin=-4.0)
    F = ct.as_generator(3).standard_normal(lat.shape)
    G = ct.as_generator(4).standard_normal(lat.shape)
    P = bins.project(F)
    # a projection, orthogonal for the counting measure, conserving the sum: rounding only
    np.testing.assert_allclose(bins.project(P), P, atol=1e-14)
    assert np.sum(P * G) == pytest.approx(np.sum(F * bins.project(G)), abs=1e-10)
    assert P.sum() == pytest.approx(F.sum(), abs=1e-10)
    # constant on each bin, and the bin of every momentum is floor((e - origin) / w)
    index = bins.index.reshape(lat.shape)
    for k in np.unique(index)[::7]:
        values = P[index == k]
        assert np.ptp(values) < 1e-14
        assert values[0] == pytest.approx(F[index == k].mean(), abs=1e-14)
    assert np.all(bins.lower[index] <= e + 1e-12) and np.all(e < bins.lower[index] + 0.1 + 1e-12)
    assert bins.counts.sum() == e.size


def test_energy_bins_reject_bad_input():
    e = ct.Lattice(2, 8).dispersion()
    with pytest.raises(ValueError, match="'bin_width'"):
        shells.EnergyBins(e, 0.0)
    with pytest.raises(ValueError, match="'origin'"):
        shells.EnergyBins(e, 0.1, origin=-3.0)           # above the lowest energy
    with pytest.raises(ValueError, match="'F' must have the shape"):
        shells.EnergyBins(e, 0.1).project(np.ones((4, 4)))


def test_level_set_functions_reject_bad_input():
    lat = ct.Lattice(2, 16)
    J = ct.quasi_free_states.gibbs_distribution(lat, 1.0, 0.0)
    with pytest.raises(ValueError, match="'width' must be > 0"):
        shells.level_set_average(J, lat.dispersion(), width=0.0)
    with pytest.raises(ValueError, match="'energy' must have the shape"):
        shells.level_set_average(J, lat.dispersion()[:4, :4])
    with pytest.raises(ValueError, match="'F' must be a field on a box grid"):
        shells.equidistribution_defect(np.ones((3, 4)), np.ones((3, 4)))
