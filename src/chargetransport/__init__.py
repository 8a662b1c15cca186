"""chargetransport: numerical companion to T. Chen's lectures on charge transport
in random media and Boltzmann limits (RIMS Kokyuroku Bessatsu B21, 2010).

Conventions: lattice Z^d (d = 1, 2, 3) in a periodic box of side L;
``(Delta psi)(x) = sum_{|y-x|=1} psi(y)``; ``e(k) = sum_i 2 cos(2 pi k_i)`` on the
torus [0, 1)^d; ``H = Delta + eta V`` with i.i.d. ``omega_x``, ``E[omega] = 0``,
``E[omega^2] = 1``; kinetic scaling ``(T, X) = eta^2 (t, x)``; collision kernel
``sigma(U, V) = 2 pi delta(e(U) - e(V))``.

Execution policy: the package's Numba kernels run on every usable core. Their threads
meet at a barrier after every Chebyshev step (hundreds per propagation); OpenMP's default
is to spin there, which on a machine whose cores are shared (a laptop, a CI runner, a
process pool of several workers) costs up to ten times the CPU of the work itself. So the
package asks OpenMP to sleep instead (``OMP_WAIT_POLICY=PASSIVE``), unless the variable is
already set; the results do not depend on it.
"""
import os as _os

_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # before Numba loads its threading layer
from .disorder import DISTRIBUTIONS, random_potential
from .dos import density_of_states
from .ensemble import EnsembleError, EnsembleResult, ensemble_average, process_pool
from .lockstep import LockstepEnsemble
from .streaming_moments import StreamingMoments
from .hamiltonian import AndersonHamiltonian
from .kpm import jackson_kernel, kpm_density_of_states
from .lattice import Lattice, dispersion, dispersion_gradient
from .propagation import chebyshev_num_terms, evolve, free_evolution, trajectory
from .rng import as_generator, realization_seeds
from .observables import (boundary_weight, mean_square_displacement, mean_square_velocity,
                          momentum_distribution)
from .states import gaussian_wave_packet, plane_wave, wkb_state
from .localization import (eigenvector_ipr, golden_rule_spreading, inverse_participation_ratio,
                           spreading_distance, spreading_functional)
from .transfer_matrix import LyapunovResult, box_disorder_eta, lyapunov_exponent, thouless_exponent
from .strip_transfer_matrix import StripResult, strip_lyapunov_exponents
from .quasi_free_states import (fermi_dirac, fermi_sea, gibbs_distribution,
                                one_particle_density_matrix)
from . import (boltzmann, deviations, duhamel, fermi_kinetics, fermions, fluctuations, fock_space,
               graph_counts, graphs, hartree_fock, hartree_fock_stationary, hartree_fock_terms,
               kinetic_limit, level_lines, localization, plotting, power_laws, quasi_free_states,
               relaxation_prediction, resolvents, shell_sampling, shells, statistics,
               streaming_moments, strip_transfer_matrix, transfer_matrix, wkb_experiment)
from .wigner import (SeparableTestFunction, gaussian_test_function, wigner_pairing,
                     wigner_transform)

__version__ = "0.1.0"

__all__ = [
    "AndersonHamiltonian", "DISTRIBUTIONS", "EnsembleError", "EnsembleResult", "LockstepEnsemble",
    "StreamingMoments", "ensemble_average", "process_pool", "Lattice", "SeparableTestFunction", "boltzmann", "kinetic_limit", "plotting", "shells",
    "relaxation_prediction", "shell_sampling", "wkb_experiment",
    "as_generator", "boundary_weight", "chebyshev_num_terms", "density_of_states",
    "dispersion", "dispersion_gradient", "evolve", "free_evolution",
    "gaussian_test_function", "gaussian_wave_packet", "jackson_kernel",
    "kpm_density_of_states", "mean_square_displacement", "mean_square_velocity",
    "momentum_distribution", "plane_wave", "random_potential",
    "realization_seeds", "trajectory", "wigner_pairing", "wigner_transform", "wkb_state",
    # section 2.3 (graphs, Duhamel terms, resolvents), section 3 (fluctuations) and the
    # statistics over realizations
    "deviations", "duhamel", "fluctuations", "graph_counts", "graphs", "level_lines",
    "power_laws", "resolvents", "statistics", "streaming_moments",
    # section 4: localization
    "localization", "strip_transfer_matrix", "transfer_matrix", "LyapunovResult", "StripResult", "box_disorder_eta",
    "eigenvector_ipr", "golden_rule_spreading", "inverse_participation_ratio", "lyapunov_exponent",
    "spreading_distance", "spreading_functional", "strip_lyapunov_exponents",
    "thouless_exponent",
    # sections 5 and 6: fermions, Hartree-Fock
    "fermi_kinetics", "fermions", "fock_space", "hartree_fock", "hartree_fock_stationary",
    "hartree_fock_terms", "quasi_free_states", "fermi_dirac", "fermi_sea", "gibbs_distribution",
    "one_particle_density_matrix",
]
