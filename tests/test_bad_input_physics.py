"""Bad input to the physics modules: a clear TypeError/ValueError naming the parameter,
raised before anything large is allocated or computed (table-driven).

Modules: rng, disorder, dos, shell_sampling, shells, boltzmann, kinetic_limit,
relaxation_prediction, wkb_experiment, quasi_free_states, fermions, hartree_fock_terms,
hartree_fock, localization, transfer_matrix. Sizes that cannot fit in memory (10^10
realizations, 10^13 samples, ...) must be refused by the memory check, so these cases
run in microseconds.
"""
import math

import numpy as np
import pytest

import chargetransport as ct
from chargetransport import boltzmann as bz
from chargetransport import dos
from chargetransport import fermions as fm
from chargetransport import hartree_fock as hf
from chargetransport import hartree_fock_terms as hft
from chargetransport import kinetic_limit as kl
from chargetransport import localization as loc
from chargetransport import quasi_free_states as qfs
from chargetransport import relaxation_prediction as rp
from chargetransport import shell_sampling, shells
from chargetransport import strip_transfer_matrix as stm
from chargetransport import transfer_matrix as tm
from chargetransport import wkb_experiment as wkb
from chargetransport.rng import Realization

LAT = ct.Lattice(2, 16)
H = ct.AndersonHamiltonian(LAT, 1.0, ct.random_potential(LAT, seed=1))
J = qfs.gibbs_distribution(LAT, 1.0, 0.0)
V_PAIR = hft.gaussian_pair_potential(LAT)
F0 = np.ones(LAT.shape)
HUGE = 10**13          # beyond any machine's memory in any of the arrays below


def _initial(n, rng):
    return np.zeros((n, 2)), np.tile([0.11, 0.23], (n, 1))


def _current(X, V):
    return X[:, 0]


CASES = [
    # rng: the seed contract
    ("realization_seeds 1e10", lambda: ct.realization_seeds(1, 10**10), ValueError,
     "'num_realizations' is too large"),
    ("Realization without seed", lambda: Realization(None), TypeError, "'seed'"),
    ("Realization from a generator", lambda: Realization(np.random.default_rng(0)), TypeError,
     "'seed'"),
    ("unknown stream", lambda: Realization(0).stream("noise"), ValueError, "'name'"),
    ("twist in d = 4", lambda: Realization(0).twist(4), ValueError, "'d'"),
    # disorder, dos, shell_sampling, shells
    ("potential without seed", lambda: ct.random_potential(LAT), TypeError, "'seed'"),
    ("potential on a non-lattice", lambda: ct.random_potential(16, seed=0), TypeError,
     "'lattice'"),
    ("mean dos of an empty interval", lambda: dos.mean_density_of_states([1.0], [0.5], 2),
     ValueError, "'upper'"),
    ("shell samples without seed", lambda: shell_sampling.sample_energy_shell(1.0, 2, 10, None),
     TypeError, "'seed'"),
    ("shell samples 1e13", lambda: shell_sampling.sample_energy_shell(1.0, 2, HUGE, seed=0),
     ValueError, "'num_samples' is too large"),
    ("shell average of a non-callable", lambda: shell_sampling.shell_average(1.0, 1.0, 2),
     TypeError, "'J'"),
    ("energy bins of width 1e-9 (8e9 bins, beyond 24 GiB)",
     lambda: shells.EnergyBins(LAT.dispersion(), 1e-9), ValueError, "'bin_width'"),
    ("energy bins of width 1e-300", lambda: shells.EnergyBins(LAT.dispersion(), 1e-300),
     ValueError, "'bin_width'"),
    ("energy bins above the lowest energy",
     lambda: shells.EnergyBins(LAT.dispersion(), 0.1, origin=0.0), ValueError, "'origin'"),
    # boltzmann
    ("kinetic MC progress string",
     lambda: bz.kinetic_monte_carlo(_initial, [1.0], [_current], 10, progress="no"), TypeError,
     "'progress'"),
    ("kinetic MC test function returning a scalar",     # was silently 1/chunk_size
     lambda: bz.kinetic_monte_carlo(_initial, [1.0], [lambda X, V: 1.0], 10, chunk_size=5),
     ValueError, r"test_functions\[0\] must return 5 finite values"),
    ("kinetic MC test function returning NaN",
     lambda: bz.kinetic_monte_carlo(_initial, [1.0], [lambda X, V: np.full(len(X), np.nan)], 10,
                                    chunk_size=5), ValueError, "non-finite"),
    ("kinetic MC initial NaN positions",
     lambda: bz.kinetic_monte_carlo(lambda n, rng: (np.full((n, 2), np.nan),
                                                    np.tile([0.11, 0.23], (n, 1))),
                                    [1.0], [_current], 10), ValueError, "'initial'"),
    ("kinetic MC times that take days (the kernel cannot be interrupted)",
     lambda: bz.kinetic_monte_carlo(_initial, [0.0, 1e300], [_current], 10), ValueError,
     "'times'"),
    ("shell average of a J returning a scalar",
     lambda: shell_sampling.shell_average(lambda U: 1.0, 1.0, 2, num_samples=100), ValueError,
     "'J' must return 100 finite values"),
    ("diffusion constant at the 2D van Hove energy", lambda: bz.diffusion_constant([0.0], 2, 0.1),
     ValueError, "'E' = 0 is the van Hove energy"),
    ("Boltzmann MSD with eta^2 underflowing",
     lambda: bz.boltzmann_mean_square_displacement([1.0], 4.0, 1.0, 2, 1e-200), ValueError,
     "'eta'"),
    ("Boltzmann prediction at negative T",
     lambda: rp.plane_wave_boltzmann_prediction(d=2, momentum=(0.1, 0.2), T=[-1.0],
                                                bump_centers=[], bump_width=0.03),
     ValueError, "'T' must be >= 0"),
    ("Boltzmann prediction at the van Hove momentum",
     lambda: rp.plane_wave_boltzmann_prediction(d=2, momentum=(0.25, 0.25), T=[1.0],
                                                bump_centers=[], bump_width=0.03),
     ValueError, "'momentum'"),
    ("memory message for a byte count beyond a float",
     lambda: ct.resolvents.crossing_integral(1e-300), ValueError, "'grid'"),
    ("kinetic MC chunk 1e13",
     lambda: bz.kinetic_monte_carlo(_initial, [1.0], [_current], HUGE, chunk_size=HUGE),
     ValueError, "'chunk_size' is too large"),
    ("RK4 kernel of 1e8 bins",
     lambda: bz.homogeneous_time_stepping(F0, 1.0, 10, smearing=1e-6), ValueError,
     "'bin_width' is too large"),
    ("homogeneous solution of a non-grid", lambda: bz.homogeneous_solution(np.ones((4, 5)), 1.0),
     ValueError, "'F0'"),
    # kinetic_limit, wkb_experiment, relaxation_prediction
    ("WKB width -1", lambda: wkb.WKBExperiment(width=-1), ValueError, "'width'"),
    ("WKB momentum in d = 4", lambda: wkb.WKBExperiment(momentum=(0.1, 0.2, 0.3, 0.4)),
     ValueError, "'momentum'"),
    ("WKB scattered momentum of the wrong dimension",
     lambda: wkb.WKBExperiment(scattered_momentum=(0.1, 0.2, 0.3)), ValueError,
     "'scattered_momentum'"),
    ("WKB unscattered time nan", lambda: wkb.WKBExperiment(unscattered_time=math.nan), ValueError,
     "'unscattered_time'"),
    ("wkb pairings momentum in d = 3 on a d = 2 box",
     lambda: wkb.wkb_wigner_pairings(0, d=2, L=16, eta=0.5, momentum=(0.1, 0.2, 0.3), width=0.5,
                                     T=[0.0], test_functions=[]), ValueError, "'momentum'"),
    ("wkb msd width -0.5",
     lambda: kl.wkb_mean_square_displacement(0, d=2, L=16, eta=0.5, momentum=(0.1, 0.2),
                                             width=-0.5, T=[0.0]), ValueError, "'width'"),
    ("plane wave momentum in d = 1 on a d = 2 box",
     lambda: kl.plane_wave_relaxation(0, d=2, L=16, eta=0.5, momentum=(1 / 16,), T=[0.0]),
     ValueError, "'momentum'"),
    ("plane wave bump width 0",
     lambda: kl.plane_wave_relaxation(0, d=2, L=16, eta=0.5, momentum=(1 / 16, 0.0), T=[0.0],
                                      bump_centers=[(0.1, 0.2)], bump_width=0.0), ValueError,
     "'bump_width'"),
    ("plane wave bump centre of the wrong dimension",
     lambda: kl.plane_wave_relaxation(0, d=2, L=16, eta=0.5, momentum=(1 / 16, 0.0), T=[0.0],
                                      bump_centers=[(0.1,)]), ValueError, "'bump_centers"),
    ("plane wave realization from a generator",
     lambda: kl.plane_wave_relaxation(np.random.default_rng(0), d=2, L=16, eta=0.5,
                                      momentum=(1 / 16, 0.0), T=[0.0]), TypeError, "'seed'"),
    ("Boltzmann prediction momentum in d = 3 for d = 2",
     lambda: rp.plane_wave_boltzmann_prediction(d=2, momentum=(0.1, 0.2, 0.3), T=[0.0]),
     ValueError, "'momentum'"),
    ("momentum bump width 0", lambda: rp.momentum_bump(np.zeros((3, 2)), (0.1, 0.2), 0.0),
     ValueError, "'width'"),
    ("generic shell points min_distance -1",
     lambda: kl.generic_shell_points((0.1, 0.2), 3, min_distance=-1.0), ValueError,
     "'min_distance'"),
    ("WKB state on a non-lattice", lambda: wkb.gaussian_wkb_state(16, 0.5, (0.1, 0.2), 0.5),
     TypeError, "'lattice'"),
    ("plane wave on a non-lattice", lambda: kl.plane_wave(16, (0.0, 0.0)), TypeError,
     "'lattice'"),
    # fermions
    ("random phases without seed",
     lambda: fm.evolved_momentum_distribution(H, J, [1.0], method="random_phase"), TypeError,
     "'seed'"),
    ("quasi-free deviation progress string",
     lambda: fm.quasi_free_deviation(2, 0, d=2, L=16, eta=0.5, J=J, f=F0, g=F0, T=[0.0],
                                     progress="no"), TypeError, "'progress'"),
    ("Fermi-gas observable named distribution",
     lambda: fm.momentum_distribution_realization(0, d=2, L=16, eta=0.5, J=J, T=[1.0],
                                                  observables={"distribution": F0}),
     ValueError, "'observables'"),
    ("Fermi sea on a non-lattice", lambda: qfs.fermi_sea(16, 0.0), TypeError, "'lattice'"),
    ("evolved two-point matrix of a non-Hamiltonian",
     lambda: fm.evolved_two_point_matrix(np.eye(3), J, F0, F0, [0.0]), TypeError,
     "'hamiltonian'"),
    # hartree_fock
    ("t_final 0.1 with dt 1",
     lambda: hf.evolve_hartree_fock(J, V_PAIR, 1.0, 0.1, t_final=0.1, dt=1.0,
                                    num_realizations=1, seed=0), ValueError, "'t_final'"),
    ("t_final 2.5 steps",
     lambda: hf.evolve_hartree_fock(J, V_PAIR, 1.0, 0.1, t_final=0.5, dt=0.2,
                                    num_realizations=1, seed=0), ValueError, "'t_final'"),
    ("Hartree-Fock progress int",
     lambda: hf.evolve_hartree_fock(J, V_PAIR, 1.0, 0.1, 1.0, 0.1, 1, 0, progress=1), TypeError,
     "'progress'"),
    ("Hartree-Fock 1e9 realizations",
     lambda: hf.evolve_hartree_fock(J, V_PAIR, 1.0, 0.1, 1.0, 0.1, 10**9, 0), ValueError,
     "'num_realizations' is too large"),
    ("pair potential on a non-lattice", lambda: hft.gaussian_pair_potential(16), TypeError,
     "'lattice'"),
    # localization
    ("spreading functional without times",
     lambda: loc.spreading_functional(d=2, L=8, eta=0.1, times=[], num_realizations=2),
     ValueError, "'times'"),
    ("spreading distance without times",
     lambda: loc.spreading_distance(0, d=2, L=8, eta=0.1, times=[]), ValueError, "'times'"),
    ("spreading functional progress string",
     lambda: loc.spreading_functional(d=2, L=8, eta=0.1, times=[1.0], num_realizations=2,
                                      progress="yes"), TypeError, "'progress'"),
    ("scalar energy window", lambda: loc.eigenvector_ipr(H, energy_window=0.5), ValueError,
     "'energy_window'"),
    ("energy window of three", lambda: loc.eigenvector_ipr(H, energy_window=(0.0, 1.0, 2.0)),
     ValueError, "'energy_window'"),
    ("ipr of a non-Hamiltonian", lambda: loc.eigenvector_ipr(np.eye(3)), TypeError,
     "'hamiltonian'"),
    # transfer matrices
    ("chain of 100 steps in 100 blocks", lambda: tm.lyapunov_exponent(0.5, 0.1, 100), ValueError,
     "'num_blocks'"),
    ("chain with 1e11 blocks",
     lambda: tm.lyapunov_exponent(0.5, 0.1, 16 * 10**11, num_blocks=10**11), ValueError,
     "'num_blocks' is too large"),
    ("chain seed None", lambda: tm.lyapunov_exponent(0.5, 0.1, 1600, seed=None), TypeError,
     "'seed'"),
    ("strip of 100 slices in 50 blocks of 5",
     lambda: stm.strip_lyapunov_exponents(0.0, 4, 100, eta=1.0, reorth_every=5), ValueError,
     "'num_blocks'"),
]


@pytest.mark.parametrize("name, call, exc, match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_a_clear_error(name, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_clean_strip_localization_length_is_never_negative():
    # Without disorder the exponents of modes in the band are 0 up to O(1/n) noise of either
    # sign: here gamma_M = -1.4e-5 (measured), whose inverse used to be returned as a
    # negative length. It is inf, as for LyapunovResult.
    r = stm.strip_lyapunov_exponents(0.3, 5, 2000, eta=0.0, seed=1)
    assert -1e-3 < r.smallest_exponent <= 0.0
    assert math.isinf(r.localization_length) and math.isinf(r.localization_length_error)
    assert math.isinf(r.normalized_length)
    # a positive exponent keeps xi = 1 / gamma
    r = stm.strip_lyapunov_exponents(0.3, 5, 2000, eta=1.0, seed=1)
    assert r.localization_length == pytest.approx(1.0 / r.smallest_exponent, rel=1e-15)
