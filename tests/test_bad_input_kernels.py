"""Bad input to the lattice / Hamiltonian / propagation layer: every public entry point rejects
non-finite fields, zero states where a state is needed, and sizes that cannot fit in memory
with a ValueError (or a TypeError for a wrong kind) whose message names the parameter, before
anything is allocated or reaches a Numba kernel (the kernels themselves stay unchecked).
"""
import re

import numpy as np
import pytest

import chargetransport as ct
from chargetransport import duhamel

LAT = ct.Lattice(2, 6)
H = ct.AndersonHamiltonian(LAT, 0.5, ct.random_potential(LAT, seed=0))
PSI = ct.gaussian_wave_packet(LAT, (0, 0), 1.0, (0.1, 0.2))
J = ct.gaussian_test_function([0.0, 0.0], [0.1, 0.2], width=1.0, momentum_width=0.1)
HUGE_T = 1e30      # a Chebyshev series of ~1e31 terms: far beyond any machine's memory


def with_value(value, where=(1, 2)):
    psi = PSI.copy()
    psi[where] = value
    return psi


NAN, INF, ZERO = with_value(np.nan), with_value(np.inf), np.zeros(LAT.shape, complex)
NAN_IMAG = with_value(complex(0.0, np.nan))

CASES = [
    # --- H.apply and the kernel interface --------------------------------------------
    ("apply NaN", lambda: H.apply(NAN), ValueError, "'psi'.*finite"),
    ("apply inf", lambda: H.apply(INF), ValueError, "'psi'.*finite"),
    ("apply NaN imaginary part", lambda: H.apply(NAN_IMAG), ValueError, "'psi'.*finite"),
    ("check_field NaN", lambda: H.check_field(NAN, "phi"), ValueError, "'phi'.*finite"),
    ("spectral_rescaling negative margin", lambda: H.spectral_rescaling(-0.1), ValueError, "'margin'"),
    ("H lattice tuple", lambda: ct.AndersonHamiltonian((2, 6), 0.5), TypeError, "'lattice'"),
    # --- evolve, trajectory, chebyshev_num_terms, free_evolution -----------------------
    ("evolve NaN psi0", lambda: ct.evolve(H, NAN, t=1.0), ValueError, "'psi0'.*finite"),
    ("evolve inf psi0 times", lambda: ct.evolve(H, INF, times=[1.0]), ValueError, "'psi0'.*finite"),
    ("evolve huge t", lambda: ct.evolve(H, PSI, t=HUGE_T), ValueError, "'t' is too large.*Chebyshev"),
    ("evolve huge negative t", lambda: ct.evolve(H, PSI, t=-HUGE_T), ValueError, "'t' is too large"),
    ("evolve huge times", lambda: ct.evolve(H, PSI, times=[1.0, HUGE_T]), ValueError, "'times' is too large"),
    ("evolve progress string", lambda: ct.evolve(H, PSI, t=1.0, progress="yes"), TypeError, "'progress'"),
    ("evolve progress int", lambda: ct.evolve(H, PSI, t=1.0, progress=1), TypeError, "'progress'"),
    ("evolve lattice", lambda: ct.evolve(LAT, PSI, t=1.0), TypeError, "'hamiltonian'"),
    ("chebyshev_num_terms huge t", lambda: ct.chebyshev_num_terms(H, HUGE_T), ValueError, "'t' is too large"),
    ("chebyshev_num_terms lattice", lambda: ct.chebyshev_num_terms(LAT, 1.0), TypeError, "'hamiltonian'"),
    # generators validate when called: no next() here
    ("trajectory NaN psi0", lambda: ct.trajectory(H, NAN, [1.0]), ValueError, "'psi0'"),
    ("trajectory NaN times", lambda: ct.trajectory(H, PSI, [1.0, np.nan]), ValueError, "'times'"),
    ("trajectory tol", lambda: ct.trajectory(H, PSI, [1.0], tol=1.0), ValueError, "'tol'"),
    ("trajectory progress", lambda: ct.trajectory(H, PSI, [1.0], progress="no"), TypeError, "'progress'"),
    ("trajectory huge times", lambda: ct.trajectory(H, PSI, [HUGE_T]), ValueError, "'times' is too large"),
    ("trajectory lattice", lambda: ct.trajectory(LAT, PSI, [1.0]), TypeError, "'hamiltonian'"),
    ("free_evolution NaN psi0", lambda: ct.free_evolution(LAT, NAN, 1.0), ValueError, "'psi0'.*finite"),
    # --- KPM ---------------------------------------------------------------------------
    ("kpm huge num_moments", lambda: ct.kpm_density_of_states(H, np.zeros(1000), num_moments=10**12),
     ValueError, "'num_moments' is too large"),
    ("kpm return_error string", lambda: ct.kpm_density_of_states(H, [0.0], num_moments=4, return_error="yes"),
     TypeError, "'return_error'"),
    ("jackson huge num_moments", lambda: ct.jackson_kernel(10**14), ValueError, "'num_moments' is too large"),
    # --- observables -------------------------------------------------------------------
    ("boundary_weight NaN", lambda: ct.boundary_weight(NAN, 1), ValueError, "'psi'.*finite"),
    ("boundary_weight inf", lambda: ct.boundary_weight(INF, 1), ValueError, "'psi'.*finite"),
    ("boundary_weight zero", lambda: ct.boundary_weight(ZERO, 1), ValueError, "'psi' has zero norm"),
    ("momentum_distribution NaN", lambda: ct.momentum_distribution(NAN), ValueError, "'psi'.*finite"),
    ("momentum_distribution lattice shape", lambda: ct.momentum_distribution(PSI, ct.Lattice(2, 7)),
     ValueError, "'psi'.*shape"),
    ("momentum_distribution lattice type", lambda: ct.momentum_distribution(PSI, (2, 6)), TypeError, "'lattice'"),
    ("mean_square_velocity NaN", lambda: ct.mean_square_velocity(NAN), ValueError, "'psi'.*finite"),
    ("mean_square_velocity zero", lambda: ct.mean_square_velocity(ZERO), ValueError, "'psi' has zero norm"),
    ("mean_square_displacement NaN", lambda: ct.mean_square_displacement(NAN), ValueError, "'psi'.*finite"),
    ("mean_square_displacement zero", lambda: ct.mean_square_displacement(ZERO), ValueError, "zero norm"),
    ("mean_square_displacement NaN center", lambda: ct.mean_square_displacement(PSI, center=[np.nan, np.nan]),
     ValueError, "'center'"),
    ("mean_square_displacement inf center", lambda: ct.mean_square_displacement(PSI, center=[0.0, np.inf]),
     ValueError, "'center'"),
    # --- Wigner ------------------------------------------------------------------------
    ("wigner_transform NaN", lambda: ct.wigner_transform(NAN), ValueError, "'psi'.*finite"),
    ("wigner_transform inf", lambda: ct.wigner_transform(INF), ValueError, "'psi'.*finite"),
    ("wigner_pairing NaN", lambda: ct.wigner_pairing(NAN, J), ValueError, "'psi'.*finite"),
    ("gaussian_test_function NaN center", lambda: ct.gaussian_test_function([0.0, np.nan], [0.1, 0.2]),
     ValueError, "'center'"),
    ("gaussian_test_function inf momentum", lambda: ct.gaussian_test_function([0.0, 0.0], [np.inf, 0.2]),
     ValueError, "'momentum'"),
    # --- states ------------------------------------------------------------------------
    ("plane_wave off the grid", lambda: ct.plane_wave(LAT, [0.1, 0.0]), ValueError, "'momentum'.*grid"),
    ("plane_wave NaN", lambda: ct.plane_wave(LAT, [np.nan, 0.0]), ValueError, "'momentum'"),
    ("plane_wave lattice", lambda: ct.plane_wave((2, 6), [0.0, 0.0]), TypeError, "'lattice'"),
    ("wkb NaN amplitude", lambda: ct.wkb_state(LAT, lambda X, Y: np.nan + 0 * X, lambda X, Y: X, 0.1),
     ValueError, "'amplitude'"),
    ("wkb inf phase", lambda: ct.wkb_state(LAT, lambda X, Y: 1.0 + 0 * X, lambda X, Y: np.inf + X, 0.1),
     ValueError, "'phase'"),
    # --- Duhamel -----------------------------------------------------------------------
    ("duhamel NaN psi0", lambda: duhamel.duhamel_terms(H, NAN, 1.0, 2), ValueError, "'psi0'.*finite"),
    ("duhamel huge t", lambda: duhamel.duhamel_terms(H, PSI, HUGE_T, 2), ValueError, "'t' is too large"),
    ("duhamel huge times", lambda: duhamel.duhamel_terms(H, PSI, order=2, times=[1.0, HUGE_T]),
     ValueError, "'times' is too large"),
    ("duhamel huge order", lambda: duhamel.duhamel_terms(H, PSI, 1.0, 10**12), ValueError, "'order' is too large"),
    ("multilinear NaN psi0", lambda: duhamel.multilinear_duhamel_terms(LAT, 0.1, [H.potential.copy()], NAN, 1.0),
     ValueError, "'psi0'.*finite"),
    ("multilinear NaN potential",
     lambda: duhamel.multilinear_duhamel_terms(LAT, 0.1, [np.full(LAT.shape, np.nan)], PSI, 1.0),
     ValueError, r"'potentials\[0\]'"),
    ("truncation_order NaN", lambda: duhamel.truncation_order([0.1, np.nan]), ValueError, "'eta'"),
    ("truncation_order string", lambda: duhamel.truncation_order("0.1"), TypeError, "'eta'"),
    ("pairing NaN psi0", lambda: duhamel.pairing_contributions(LAT, 0.1, [(((1, 2),), 2)], NAN, 1.0, seed=1),
     ValueError, "'psi0'.*finite"),
]


@pytest.mark.parametrize("name, call, error, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_rejected_with_a_message_naming_the_parameter(name, call, error, message):
    with pytest.raises(error) as info:
        call()
    assert re.search(message, str(info.value)), str(info.value)


def test_trajectory_validates_when_called_and_then_yields_lazily():
    gen = ct.trajectory(H, PSI, [0.0, 1.0])     # valid: nothing computed yet
    i, psi = next(gen)
    assert i == 0 and np.array_equal(psi, PSI)


def test_apply_accepts_any_values_in_the_output_buffer():
    out = np.full(LAT.shape, np.nan + 0j)
    assert np.all(np.isfinite(H.apply(PSI, out=out)))


def test_quadratic_forms_of_the_zero_field_are_zero_not_errors():
    # unnormalised quantities are defined for the zero field (e.g. a Duhamel term at t = 0)
    np.testing.assert_array_equal(ct.momentum_distribution(ZERO), 0.0)
    assert ct.wigner_pairing(ZERO, J) == 0.0
    np.testing.assert_array_equal(ct.wigner_transform(ZERO)[2], 0.0)
    np.testing.assert_array_equal(H.apply(ZERO), 0.0)


def test_the_kernels_themselves_stay_unchecked():
    # the documented contract: apply_affine does not look at the values (hot loops)
    out = np.empty_like(PSI)
    H.apply_affine(NAN, out)
    assert np.isnan(out).any()
