"""The numbers stated in book/fermi_gas.md, checked against theory.

Values are read from the notebook the book build executed (``book_values.py``).
"""
import math

import pytest

from book_values import chapter_values

pytestmark = pytest.mark.book

ETAS = (0.4, 0.28, 0.2, 0.14)
BETAS = ("1.0", "4.0", "inf")


values = chapter_values("book/fermi_gas")


def test_fock_space_agrees_with_one_particle_reduction(values):
    # exact identity; dense eigh of sector blocks and Chebyshev at tol 1e-14 on test
    # functions of norm ~4: rounding, far below the 1e-10 the issue asks for
    assert values["fock_error_two_point"] < 1e-10
    assert values["fock_error_four_point"] < 1e-10


def test_displaced_sea_current_follows_boltzmann(values):
    d2 = {eta: values[f"current_distance_d2_{eta}"] for eta in ETAS}
    se = {eta: values[f"current_distance_se_d2_{eta}"] for eta in ETAS}
    # every eta: within 4% of j(0) (O(eta^2) ~ 0.2 eta^2 <= 0.032 at eta = 0.4) plus 3 s.e.
    for eta in ETAS:
        assert d2[eta] < 0.04 + 3 * se[eta]
    # "falls roughly like eta^2": below the dotted line 0.2 eta^2 (+ 2 s.e.) at every eta,
    # and eta = 0.2 well below eta = 0.4 (expected ratio ~1/4; demand < 1/2)
    for eta in ETAS:
        assert d2[eta] < 0.2 * eta**2 + 2 * se[eta]
    assert d2[0.2] < 0.5 * d2[0.4]
    # "at eta = 0.14 it reaches the statistical error": within 3 s.e. of zero
    assert d2[0.14] < 3 * se[0.14]
    # d = 3: "they decrease, more slowly than in d = 2", few-per-cent level
    d3 = {eta: values[f"current_distance_d3_{eta}"] for eta in (0.4, 0.28, 0.2)}
    assert max(d3.values()) < 0.05
    assert d3[0.2] < d3[0.4]
    assert d3[0.2] > d2[0.2]
    # the quadrupole moment follows Boltzmann within a few per cent of its initial value
    assert values["quadrupole_distance_d2_0.2"] < 0.05
    # the Boltzmann current at T = 2 (closed form on the L = 256 grid): relaxed, not zero
    assert 0.05 < values["current_ratio_T2"] < 0.3
    # initial current of the displaced sea (exact grid sum, not random): v_1 weighted
    assert 0.15 < values["displaced_current_initial"] < 0.2


def test_gibbs_states_are_stationary_up_to_order_eta_squared(values):
    for beta in BETAS:
        shifts = [values[f"gibbs_energy_shift_{beta}_{eta}"] for eta in ETAS[:3]]
        # the kinetic energy rises (potential energy is lowered at second order)
        assert all(s > 0 for s in shifts)
        # and scales like eta^2: the ratio shift/eta^2 is the same within 15% across eta
        ratios = [s / eta**2 for s, eta in zip(shifts, ETAS[:3])]
        assert max(ratios) < 1.15 * min(ratios)
        assert values[f"gibbs_energy_shift_over_eta2_{beta}"] == pytest.approx(
            sum(ratios) / 3, rel=1e-12)
        # no current appears (zero by symmetry of the averaged dynamics): within 4 s.e.
        for eta in ETAS[:3]:
            assert (values[f"gibbs_current_max_{beta}_{eta}"]
                    < 4 * values[f"gibbs_current_se_{beta}_{eta}"] + 1e-3)
    assert 1.8 < values["gibbs_energy_shift_exponent"] < 2.2
    # "complete at T = 0.25, then constant": the gain varies by < 10% over T in [0.25, 2]
    # (statistical error of the kinetic energy ~1e-4 against gains >= 6e-3)
    assert values["gibbs_energy_shift_spread"] < 0.1
    # the displaced sea has the same O(eta^2) dressing of its energy
    for eta in ETAS:
        assert 0.1 < values[f"displaced_energy_shift_{eta}"] / eta**2 < 0.3


def test_averaged_state_is_not_quasi_free_but_converges(values):
    for eta in (0.4, 0.28, 0.2):
        # a nonzero defect at eta > 0: more than 3 standard errors, at the peak and at T = 1
        assert values[f"quasi_free_defect_{eta}"] > 3 * values[f"quasi_free_defect_se_{eta}"]
        assert values[f"quasi_free_defect_T1_{eta}"] > 3 * values[f"quasi_free_defect_T1_se_{eta}"]
        # zero at T = 0: deterministic quasi-free initial state, rounding only
        assert values[f"defect_T0_{eta}"] < 1e-12
        # the joint occupation is a probability
        assert 0 < values[f"joint_occupation_{eta}"] < 1
        # two-point functions of localised packets follow Boltzmann (Theorem 5.1) within
        # the O(eta) energy smearing of the packet at the Fermi edge
        assert values[f"two_point_distance_{eta}"] < 0.03
        # the peak sits at microscopic times t = T / eta^2 of order 1-4 (the text: 2-3)
        assert 1.0 <= values[f"quasi_free_defect_peak_T_{eta}"] / eta**2 <= 4.0
    # decreasing in eta beyond the combined error bars, at T = 1 and for the peak
    for key in ("quasi_free_defect_", "quasi_free_defect_T1_"):
        d04, d02 = values[f"{key}0.4"], values[f"{key}0.2"]
        se = key.replace("defect_", "defect_se_") if key.endswith("defect_") else key + "se_"
        s04, s02 = values[f"{se}0.4"], values[f"{se}0.2"]
        assert d02 + 2 * math.hypot(s02, s04) < d04
    # exponents: fast at fixed T (text: ~eta^3), slower for the peak (~eta^1.5)
    assert values["quasi_free_defect_T1_exponent"] > 2.0
    assert 0.8 < values["quasi_free_defect_exponent"] < values["quasi_free_defect_T1_exponent"]
    # "a few per cent at most" of the four-point function (measured 2% at 0.4, 1% at 0.2)
    for eta in (0.4, 0.28, 0.2):
        assert values[f"quasi_free_defect_{eta}"] < 0.04 * values[f"joint_occupation_{eta}"]
