"""The numbers stated in book/boltzmann_limit.md, checked against theory.

Values are read from the notebook the book build executed (``book_values.py``).
"""
import math

import numpy as np
import pytest

import chargetransport as ct
from chargetransport import studies
from book_values import chapter_values

pytestmark = pytest.mark.book

values = chapter_values("book/boltzmann_limit")


# ----------------------------------------------------------------------------------------
# A1: the statement, solving the Boltzmann equation, Experiment 1, its exercises
# ----------------------------------------------------------------------------------------
ETAS_BOOK = (0.4, 0.28, 0.2)
ETAS_FULL = {2: (0.4, 0.28, 0.2, 0.14, 0.1), 3: (0.4, 0.28, 0.2, 0.14, 0.1)}
ETAS_EARLY = {2: ETAS_FULL[2] + (0.07, 0.05), 3: ETAS_FULL[3] + (0.07,)}
TARGETS = {2: (0.11, 0.23), 3: (0.11, 0.23, 0.37)}


def _rho2(E):
    """rho_2 from the complete elliptic integral (independent of the package)."""
    from scipy.special import ellipk
    return ellipk(1.0 - E**2 / 16.0) / (2.0 * np.pi**2)


def test_homogeneous_solvers_agree_better_on_finer_grids(values):
    diffs = [values[f"homogeneous_difference_L{L}"] for L in (64, 128, 256, 512)]
    # the grid resolves the energy shells better at each refinement: every doubling of L
    # shrinks the difference (it is not the time stepping, which does not change with L)
    assert all(b < a for a, b in zip(diffs, diffs[1:]))
    # at least first order in the grid spacing 1/L over the three doublings
    assert diffs[-1] < diffs[0] / 8
    assert values["homogeneous_difference_finest"] == diffs[-1]
    # the text: local slopes per doubling (quoted as a range), no single power of L: they
    # spread by more than 0.5; and no levelling off yet at the fixed smearing s = 0.02: the
    # last doubling still more than halves the difference (local slope above 1)
    slopes = [math.log(a / b) / math.log(2) for a, b in zip(diffs, diffs[1:])]
    assert values["homogeneous_slope_min"] == pytest.approx(min(slopes), rel=1e-12)
    assert values["homogeneous_slope_max"] == pytest.approx(max(slopes), rel=1e-12)
    assert max(slopes) - min(slopes) > 0.5
    assert slopes[-1] > 1.0
    # mass is conserved exactly by the binned projection: rounding only
    assert values["homogeneous_mass_drift"] < 1e-12
    assert values["homogeneous_entropy_monotone"] is True


def test_shell_samples_lie_on_the_shell_with_the_exact_marginal(values):
    # cos/arccos rounding only
    assert values["shell_sample_max_energy_error"] < 1e-12
    # Kolmogorov-Smirnov distance (at 400 quantiles, which can only lower it) against the
    # exact law of eps_1: below the 0.1 % critical value 1.95 / sqrt(n)
    assert values["shell_sample_ks_distance"] < 1.95 / np.sqrt(values["shell_sample_count"])


def test_control_variates_shrink_the_error_of_the_survival(values):
    # the realization's own Born transfer carries most of the spread of the survival:
    # the largest ratio over T of the standard errors with and without it stays below 1
    for d in (2, 3):
        for eta in ETAS_BOOK:
            assert values[f"cv_error_ratio_survival_d{d}_{eta}"] < 1.0


def _relaxation(values, window, d):
    """(eta, value, standard error) of the resolved points, largest eta first."""
    etas = (ETAS_FULL if window == "full" else ETAS_EARLY)[d]
    resolved = [values[f"relaxation_{window}_resolved_d{d}_{eta}"] for eta in etas]
    # resolution may be lost only at the smallest eta (the text quotes the smallest
    # resolved eta): the resolved points come first
    k = sum(resolved)
    assert resolved == [True] * k + [False] * (len(etas) - k), (window, d, resolved)
    etas = etas[:k]
    assert values[f"relaxation_smallest_eta_{window}_d{d}"] == min(etas)
    assert values[f"relaxation_num_points_{window}_d{d}"] == len(etas)
    dev = [values[f"relaxation_{window}_d{d}_{eta}"] for eta in etas]
    se = [values[f"relaxation_{window}_se_d{d}_{eta}"] for eta in etas]
    assert values[f"relaxation_smallest_value_{window}_d{d}"] == dev[-1]
    assert values[f"relaxation_smallest_se_{window}_d{d}"] == se[-1]
    # every resolved point known to better than a third of itself (issue 13)
    assert all(e < v / 3 for v, e in zip(dev, se))
    return etas, dev, se


def _falls(dev, se):
    # each smaller eta below the larger one beyond 2 combined standard errors (at most 6
    # comparisons per curve: a 2-sigma false alarm of ~2 % each)
    return [b + 2 * np.hypot(ea, eb) < a for a, ea, b, eb in zip(dev, se, dev[1:], se[1:])]


@pytest.mark.parametrize("d, window", [(3, "fixed"), (2, "early"), (3, "early"),
                                       (2, "full")])
def test_deviation_from_boltzmann_falls_monotonically_with_eta(values, d, window):
    etas, dev, se = _relaxation(values, window, d)
    assert all(_falls(dev, se))
    assert len(etas) >= 4                      # issue 13: at least four eta values
    if window == "fixed":                      # the text: resolved at every eta
        assert etas == ETAS_EARLY[d]
    if window == "early":                      # the text: resolved at every eta
        assert etas == ETAS_EARLY[d]
    if window == "early" and d == 2:           # ... with 30+ realizations at eta = 0.05
        assert values["relaxation_realizations_d2_0.05"] >= 30
    if window == "early":
        # the text: the early maximum is the survival (column 0) in d = 3 and a momentum
        # bump (columns 1 + d, ...) in d = 2
        for eta in etas:
            column = values[f"relaxation_early_argmax_column_d{d}_{eta}"]
            assert column == 0 if d == 3 else column >= 1 + d, (eta, column)
    if window == "early" and d == 3:
        # ... at T = 1/4 down to eta = 0.14, at T = 1/2 below (the text's description of
        # the runs, read from the glue), and the fall flattens at the end. The independent
        # check of the location: where the maximum is at T = 1/4 it is the fixed-window point
        # (the survival at T = 1/4; the two debiased maxima differ only by their bootstrap
        # draws: within 3 combined errors); where it is at T = 1/2 it is not below that
        # point beyond 3 combined errors (the window contains T = 1/4), and at eta = 0.1,
        # where the text says "only just", the two agree within 3 combined errors
        for eta in etas:
            T_at = values[f"relaxation_early_argmax_T_d3_{eta}"]
            assert T_at == (0.25 if eta >= 0.14 else 0.5), eta
            early, fixed = values[f"relaxation_early_d3_{eta}"], values[f"relaxation_fixed_d3_{eta}"]
            err = np.hypot(values[f"relaxation_early_se_d3_{eta}"],
                           values[f"relaxation_fixed_se_d3_{eta}"])
            if T_at == 0.25 or eta == 0.1:
                assert abs(early - fixed) < 3 * err, eta
            else:
                assert early - fixed > -3 * err, eta
        e1, e2 = etas[-2], etas[-1]
        slope = math.log(values[f"relaxation_early_d3_{e2}"] / values[f"relaxation_early_d3_{e1}"]
                         ) / math.log(e2 / e1)
        assert values["relaxation_early_last_slope_d3"] == pytest.approx(slope, rel=1e-12)
        assert slope < values["relaxation_rate_early_d3"] - 2 * values["relaxation_rate_se_early_d3"]


def test_3d_early_window_rate_is_fitted_where_the_maximum_does_not_depend_on_the_box(values):
    # the text: below eta = 0.14 the d = 3 early maximum is the survival at T = 1/2, which at
    # eta = 0.1 is lower in the box of side 128 than in the box of side 92 (beyond N_SE = 3
    # combined standard errors, the z the text quotes: independent potentials and twists,
    # errors in quadrature) ...
    s92 = values["box_check_survival_Thalf_twisted_L92"]
    s128 = values["box_check_survival_Thalf_twisted_L128"]
    se = np.hypot(values["box_check_survival_Thalf_se_twisted_L92"],
                  values["box_check_survival_Thalf_se_twisted_L128"])
    assert values["box_check_survival_Thalf_gain_L128"] == pytest.approx(s92 - s128, rel=1e-12)
    assert values["box_check_survival_Thalf_gain_se_L128"] == pytest.approx(se, rel=1e-12)
    assert s92 - s128 > N_SE * se
    assert values["box_check_survival_Thalf_gain_z_L128"] == pytest.approx((s92 - s128) / se,
                                                                         rel=1e-12)
    # ... and that survival deviation is the early maximum of the 1000-level box (the same
    # runs, the box of side 92 at eta = 0.1: debiased maximum against the plain mean, within
    # 3 combined standard errors)
    assert abs(values["relaxation_early_d3_0.1"] - s92) < 3 * np.hypot(
        values["relaxation_early_se_d3_0.1"], values["box_check_survival_Thalf_se_twisted_L92"])
    # the quoted rate is fitted over eta >= 0.14 only (four points), where the maximum is the
    # survival at T = 1/4; a fit of a power law lies within the range of the local slopes of
    # its points (recomputed from the glued deviations), widened by 3 bootstrap errors; it is
    # positive beyond 3 errors and not above the O(eta^2) of the corrections by more than 3
    etas = [eta for eta in ETAS_EARLY[3] if eta >= 0.14]
    assert values["relaxation_num_points_early_ge014_d3"] == len(etas) == 4
    dev = [values[f"relaxation_early_d3_{eta}"] for eta in etas]
    local = [math.log(a / b) / math.log(ea / eb)
             for a, b, ea, eb in zip(dev, dev[1:], etas, etas[1:])]
    rate, rate_se = (values["relaxation_rate_early_ge014_d3"],
                     values["relaxation_rate_se_early_ge014_d3"])
    assert min(local) - 3 * rate_se < rate < max(local) + 3 * rate_se
    assert values["relaxation_local_slope_min_early_ge014_d3"] == pytest.approx(min(local))
    assert values["relaxation_local_slope_max_early_ge014_d3"] == pytest.approx(max(local))
    # the quoted error covers the misfit: chi^2 per degree of freedom of the unweighted
    # fit against the points' own standard errors, recomputed here by least squares, and
    # the bootstrap error scaled by its square root where it exceeds 1
    x = np.log(etas)
    y = np.log(dev)
    w = np.array(dev) / np.array([values[f"relaxation_early_se_d3_{eta}"] for eta in etas])
    slope, intercept = np.polyfit(x, y, 1)
    assert slope == pytest.approx(rate, rel=1e-9)
    chi2dof = float(np.sum(((y - intercept - slope * x) * w) ** 2) / (len(etas) - 2))
    assert values["relaxation_rate_chi2dof_early_ge014_d3"] == pytest.approx(chi2dof, rel=1e-9)
    boot = values["relaxation_rate_se_bootstrap_early_ge014_d3"]
    assert rate_se == pytest.approx(boot * math.sqrt(max(1.0, chi2dof)), rel=1e-12)
    assert rate - 3 * rate_se > 0 and rate < 2 + 3 * rate_se
    # the flattening quoted (slope between the two smallest eta) lies far below this rate
    assert values["relaxation_early_last_slope_d3"] < rate - 3 * rate_se


def test_2d_full_window_is_resolved_down_to_eta_01_and_noise_limited_below(values):
    # the text: the d = 2 whole window is resolved down to eta = 0.1 (256 realizations),
    # its maximum a momentum bump (columns 3, 4), as in the early window; the bump
    # deviation hardly changes with T: full and early maxima within 3 combined errors
    assert values["relaxation_smallest_eta_full_d2"] == 0.1
    assert values["relaxation_full_resolved_d2_0.1"] is True
    assert values["relaxation_realizations_d2_0.1"] >= 30
    assert values["relaxation_full_argmax_column_d2_0.1"] >= 3
    assert abs(values["relaxation_full_d2_0.1"] - values["relaxation_early_d2_0.1"]) < 3 * \
        np.hypot(values["relaxation_full_se_d2_0.1"], values["relaxation_early_se_d2_0.1"])
    # the speckle of the mean velocity at T = 2 does not shrink from eta = 0.14 to 0.1
    # (boxes of equal level count): within 25 % (the spread of a standard deviation from
    # 64 realizations is about 9 %)
    s14, s10 = values["speckle_current_T2_d2_0.14"], values["speckle_current_T2_d2_0.1"]
    assert abs(s10 / s14 - 1) < 0.25
    # the estimate for eta = 0.05: thousands of realizations of 16 times the work
    need = values["relaxation_realizations_d2_0.1"] * (
        values["relaxation_full_floor_d2_0.1"] / values["relaxation_early_d2_0.05"]) ** 2
    assert values["realizations_needed_full_d2_0.05"] == pytest.approx(need, rel=1e-12)
    assert need > 1000
    # one realization at eta = 0.05 against one at 0.1: sites (L^2) times time steps
    # (t = T / eta^2). The boxes hold equal level counts, L^2 rho Gamma ~ L^2 eta^2, so
    # L^2 grows like eta^-2 and the ratio is (0.1 / 0.05)^4 = 16, up to the rounding of the
    # sides to integers (relative 1 / L each, below 1e-3 for sides above 1000): within 1 %
    sides = {eta: studies.get_study(f"relaxation_twisted_2d_eta{eta}").parameters["L"]
             for eta in (0.1, 0.05)}
    assert abs((sides[0.05] * 0.05) ** 2 / (sides[0.1] * 0.1) ** 2 - 1) < 0.01
    assert values["work_ratio_full_d2_0.05"] == pytest.approx(
        (sides[0.05] / sides[0.1]) ** 2 * (0.1 / 0.05) ** 2, rel=1e-12)
    assert values["work_ratio_full_d2_0.05"] == pytest.approx(16, rel=0.01)


def test_2d_survival_at_the_first_time_is_not_monotone(values):
    # the text: in d = 2 the survival deviation at T = 1/4, resolved at every eta, does not
    # fall monotonically: it is larger at eta = 0.28 than at 0.4 beyond 2 combined errors
    etas, dev, se = _relaxation(values, "fixed", 2)
    assert etas == ETAS_EARLY[2]
    assert dev[1] - dev[0] > 2 * np.hypot(se[0], se[1])


def test_3d_full_window_falls_to_eta_014_and_levels_off(values):
    # the text: over T in [0, 2] the d = 3 deviation falls from eta = 0.4 to 0.14, and at
    # 0.1 it is not below the 0.14 value beyond 2 combined standard errors
    etas, dev, se = _relaxation(values, "full", 3)
    assert etas == ETAS_FULL[3]
    falls = _falls(dev, se)
    assert all(falls[:-1]) and not falls[-1]
    # ... with its maximum at late times (T >= 1) in the mean velocity (columns 1..3)
    assert values["relaxation_full_argmax_T_d3_0.1"] >= 1.0
    assert 1 <= values["relaxation_full_argmax_column_d3_0.1"] <= 3
    assert values["relaxation_realizations_d3_0.1"] >= 30
    # the quoted noise floor lies below the (resolved) maximum, and is the box check's floor
    # of the same run (side 92)
    floor = values["relaxation_full_floor_d3_0.1"]
    assert floor < values["relaxation_full_d3_0.1"]
    assert floor == values["box_check_floor_twisted_L92"]


@pytest.mark.parametrize("d, window", [(3, "fixed"), (2, "early"), (3, "early"),
                                       (2, "full")])
def test_fitted_rate_of_the_deviation_is_positive_and_near_the_order_of_the_corrections(
        values, d, window):
    rate = values[f"relaxation_rate_{window}_d{d}"]
    se = values[f"relaxation_rate_se_{window}_d{d}"]
    # convergence: the exponent is positive beyond 3 bootstrap standard errors
    assert rate - 3 * se > 0
    # the corrections to the kinetic limit are O(eta^2) (second-order perturbation theory:
    # the finite-time tails of F_t, energy-dependent rates); over a finite range of eta
    # the fitted exponent may lie below 2 (higher orders) but not above it by more than 3
    # standard errors
    assert rate < 2 + 3 * se
    # the local slope between the two smallest resolved eta (quoted in the text) is positive
    assert values[f"relaxation_{window}_last_slope_d{d}"] > 0


def test_study_sizes_quoted_in_the_setting(values):
    sizes = [values["relaxation_study_min_realizations"],
             values["relaxation_study_max_realizations"]]
    assert 16 <= sizes[0] <= sizes[1]


def test_periodic_cubic_box_deviates_by_its_degenerate_images(values):
    periodic, twisted = values["box_check_periodic_L64"], values["box_check_twisted_L64"]
    err = np.hypot(values["box_check_se_periodic_L64"], values["box_check_se_twisted_L64"])
    # the same box and the same potentials: the 48 exact images of p on the periodic grid
    # make the deviation larger than in the twisted box, beyond 3 standard errors
    assert periodic - twisted > 3 * err
    assert values["box_check_resolved_periodic_L64"] is True
    # the survival at T = 1 deviates more in the periodic box than in either twisted box
    for key in ("twisted_L64", "twisted_L92"):
        gap = abs(values["box_check_survival_T1_periodic_L64"]) - abs(
            values[f"box_check_survival_T1_{key}"])
        assert gap > 3 * np.hypot(values["box_check_survival_T1_se_periodic_L64"],
                                  values[f"box_check_survival_T1_se_{key}"])
    # the text: the smaller twisted box does not resolve its late-time maximum, with 16 or
    # more realizations (an error bar needs them): its debiased maximum lies below the
    # quoted noise floor
    assert values["box_check_resolved_twisted_L64"] is False
    assert values["box_check_realizations_twisted_L64"] >= 16
    assert values["box_check_twisted_L64"] < values["box_check_floor_twisted_L64"]
    # the text: the periodic box's deviation is several times (here: more than 3 times) the
    # largest deviation and the noise floor of every twisted box in the table
    twisted = [values[f"box_check_{key}"] for key in (
        "twisted_L64", "twisted_L92", "twisted_L128", "floor_twisted_L64", "floor_twisted_L92",
        "floor_twisted_L128")]
    assert periodic > 3 * max(twisted)


def test_the_levelling_off_in_d3_is_a_box_effect(values):
    # the text: at eta = 0.1 a twisted box of side 128 (about 2700 levels in the decay width)
    # deviates less over T in [0, 2] than the box of side 92 (about 1000) beyond 3 combined
    # standard errors (independent potentials and twists: the errors add in quadrature),
    # and its maximum is resolved (above the noise floor of a maximum of many noisy points)
    gain, se = values["box_check_gain_L128"], values["box_check_gain_se_L128"]
    assert gain == pytest.approx(values["box_check_twisted_L92"]
                                 - values["box_check_twisted_L128"], abs=1e-15)
    assert se == pytest.approx(np.hypot(values["box_check_se_twisted_L92"],
                                        values["box_check_se_twisted_L128"]), rel=1e-12)
    # the box of side 92 is the figure's point at eta = 0.1 (the same stored run)
    assert values["box_check_twisted_L92"] == values["relaxation_full_d3_0.1"]
    assert values["box_check_se_twisted_L92"] == values["relaxation_full_se_d3_0.1"]
    assert gain > 3 * se
    assert values["box_check_resolved_twisted_L128"] is True
    assert values["box_check_realizations_twisted_L128"] >= 30
    # ... and below the eta = 0.14 value of the figure beyond 3 combined standard errors
    assert values["relaxation_full_d3_0.14"] - values["box_check_twisted_L128"] > 3 * np.hypot(
        values["relaxation_full_se_d3_0.14"], values["box_check_se_twisted_L128"])
    # the level counts quoted: L^3 rho(E) 2 pi rho(E) eta^2 scales as L^3
    for side in (92, 128):
        assert values[f"box_check_levels_L{side}"] == pytest.approx(
            values["box_check_levels_L64"] * (side / 64) ** 3, rel=1e-12)
    # the survival at T = 1 still depends on the box at eta = 0.1: larger in the box of side
    # 92 than in those of sides 64 and 128 (beyond 2 combined standard errors each), about
    # half of it in the box of side 128
    s92, e92 = (values["box_check_survival_T1_twisted_L92"],
                values["box_check_survival_T1_se_twisted_L92"])
    for key in ("twisted_L64", "twisted_L128"):
        assert s92 - values[f"box_check_survival_T1_{key}"] > 2 * np.hypot(
            e92, values[f"box_check_survival_T1_se_{key}"])
    ratio = values["box_check_survival_T1_twisted_L128"] / s92
    assert values["box_check_survival_T1_ratio_L128_L92"] == pytest.approx(ratio, rel=1e-12)
    assert 0.35 < ratio < 0.65


def test_the_periodic_box_survival_is_its_own_first_order_sum(values):
    # the text: the periodic box's survival reads high; its exact images alone would make it
    # read low: 47 images (2^3 3! - 1 for p = (7, 15, 24) / 64: distinct components, none 0
    # or 1/2) at eta^2 t^2 / L^3 each, dressed by exp(-m T), m = 2 pi rho(e(p)) from the DOS
    measured = values["box_check_survival_T1_periodic_L64"]
    assert measured > 3 * values["box_check_survival_T1_se_periodic_L64"]
    p = np.array([7, 15, 24]) / 64
    m = 2 * np.pi * float(ct.density_of_states(np.array([float(ct.dispersion(p))]), 3)[0])
    images = -np.exp(-m) * 47 * 0.1**2 * (1 / 0.1**2) ** 2 / 64**3
    assert values["periodic_images_survival_T1"] == pytest.approx(images, rel=1e-6)
    assert images < 0
    # ... while the box's whole first-order sum (images included) predicts an excess of the
    # measured sign and size (second order only: within a factor 2)
    born = values["periodic_born_survival_T1"]
    assert born > 0 and 0.5 < measured / born < 2


def test_in_equal_level_boxes_the_d3_survival_at_T1_is_an_eta2_correction(values):
    # the text: divided by eta^2 the survival deviation at T = 1 is the same within the
    # quoted spread (below 10%) from eta = 0.4 to 0.14, in boxes of about 2700 levels
    over = {eta: values[f"large_box_survival_T1_over_eta2_{eta}"] for eta in LARGE_BOXES}
    se = {eta: values[f"large_box_survival_T1_over_eta2_se_{eta}"] for eta in LARGE_BOXES}
    first = [over[e] for e in (0.4, 0.28, 0.2, 0.14)]
    assert values["large_box_survival_T1_over_eta2_spread"] == pytest.approx(
        max(first) / min(first) - 1, rel=1e-12)
    assert values["large_box_survival_T1_over_eta2_spread"] < 0.1
    assert all(se[e] < over[e] / 10 for e in LARGE_BOXES)
    assert over[0.1] > 0


def test_in_boxes_of_equal_level_count_the_d3_full_window_falls_from_014_to_01(values):
    # the text: at eta = 0.14 a box of side 103 holds about as many levels as the box of
    # side 128 at eta = 0.1 (L^3 eta^2 nearly equal), and between the two the largest
    # deviation over T in [0, 2] falls beyond 3 combined standard errors, with a positive
    # local exponent (3 of its standard errors), not above the O(eta^2) of the corrections
    # by more than 3
    levels = values["box_check_levels_eta0.14_L103"]
    assert levels == pytest.approx(values["box_check_levels_L64"] * (103 / 64) ** 3
                                   * (0.14 / 0.1) ** 2, rel=1e-12)
    assert abs(levels / values["box_check_levels_L128"] - 1) < 0.05
    high, low = values["box_check_eta0.14_L103"], values["box_check_twisted_L128"]
    assert values["box_check_resolved_eta0.14_L103"] is True
    assert high - low > 3 * np.hypot(values["box_check_se_eta0.14_L103"],
                                     values["box_check_se_twisted_L128"])
    # the figure's text: at eta = 0.14 too the larger box deviates less than the box of
    # 1000 levels (side 74), beyond 3 combined standard errors
    assert values["relaxation_full_d3_0.14"] - high > 3 * np.hypot(
        values["relaxation_full_se_d3_0.14"], values["box_check_se_eta0.14_L103"])
    slope, se = values["box_check_equal_slope"], values["box_check_equal_slope_se"]
    assert slope == pytest.approx(math.log(high / low) / math.log(1.4), rel=1e-12)
    assert slope - 3 * se > 0 and slope < 2 + 3 * se


LARGE_BOXES = {0.4: 51, 0.28: 65, 0.2: 81, 0.14: 103, 0.1: 128}     # eta: side, d = 3


def test_in_boxes_of_one_level_count_the_d3_full_window_falls_monotonically_to_01(values):
    # issue 13, d = 3: the largest deviation over T in [0, 2] falls monotonically over five
    # eta down to 0.1 (each step beyond 2 combined standard errors), every point resolved
    # and known to better than a third of itself, in boxes that all hold the same number of
    # levels in the decay width (L^3 rho 2 pi rho eta^2 equal within 5 %, above 2500: the
    # side-128 box that removed the levelling off at eta = 0.1)
    levels = [values[f"large_box_levels_d3_{eta}"] for eta in LARGE_BOXES]
    for eta, side in LARGE_BOXES.items():        # the quoted counts scale as L^3 eta^2
        assert values[f"large_box_levels_d3_{eta}"] == pytest.approx(
            values["box_check_levels_L64"] * (side / 64) ** 3 * (eta / 0.1) ** 2, rel=1e-12)
    assert max(levels) / min(levels) < 1.05 and min(levels) > 2500
    assert values["large_box_min_levels_d3"] == min(levels)
    assert values["large_box_max_levels_d3"] == max(levels)
    dev = [values[f"large_box_d3_{eta}"] for eta in LARGE_BOXES]
    se = [values[f"large_box_se_d3_{eta}"] for eta in LARGE_BOXES]
    assert all(values[f"large_box_resolved_d3_{eta}"] is True for eta in LARGE_BOXES)
    assert all(values[f"large_box_realizations_d3_{eta}"] >= 30 for eta in LARGE_BOXES)
    # the text quotes the eta = 0.4 count as "realizations each"
    assert {values[f"large_box_realizations_d3_{eta}"] for eta in LARGE_BOXES} == {
        values["large_box_realizations_d3_0.4"]}
    assert all(e < v / 3 for v, e in zip(dev, se))
    assert all(_falls(dev, se))
    # the fitted exponent: positive beyond 3 bootstrap errors, not above the O(eta^2) of
    # the corrections by more than 3
    assert values["large_box_num_resolved_d3"] == len(LARGE_BOXES)
    rate, rate_se = values["large_box_rate_d3"], values["large_box_rate_se_d3"]
    assert rate - 3 * rate_se > 0 and rate < 2 + 3 * rate_se


def test_box_check_box_still_holds_enough_levels(values):
    # the text: many times (here: more than 10 times) the level count of the small box of
    # the exercise, whose rate reads low
    E = float(np.sum(2 * np.cos(2 * np.pi * np.array(TARGETS[3]))))
    from scipy import integrate
    # rho_3 = rho_1 * rho_2 (independent quadrature): with x = 2 cos(theta), rho_1(x) dx =
    # d theta / pi; the log singularity of rho_2 at E - x = 0 is a break point
    rho3 = integrate.quad(lambda th: _rho2(E - 2 * np.cos(th)) / np.pi, 0, np.pi,
                          points=[np.arccos(E / 2)], limit=400)[0]
    levels = 64**3 * rho3 * 2 * np.pi * rho3 * 0.1**2
    assert values["box_check_levels_L64"] == pytest.approx(levels, rel=1e-6)
    assert levels > 10 * values["small_box_levels"]


def test_shell_average_of_the_velocity_vanishes(values):
    # two components, each a z-score of a Monte Carlo mean whose true value is 0: 4 sigma
    assert values["shell_velocity_max_z"] < 4.0


def test_second_order_sum_is_the_golden_rule(values):
    # independent: the continuum second-order loss eta^2 int rho_2(E + w) F_t(w) dw with the
    # exact rho_2 (elliptic integral), over the whole band, divided by m T (the finite-time
    # correction), and the missing k = p term
    from scipy import integrate
    eta, T = 0.2, 1.0
    E = float(np.sum(2 * np.cos(2 * np.pi * np.array(TARGETS[2]))))
    t, m = T / eta**2, 2 * np.pi * _rho2(E)
    F = lambda w: t**2 * np.sinc(w * t / (2 * np.pi)) ** 2
    rho = lambda e: _rho2(e) if abs(e) < 4 else 0.0
    total = sum(integrate.quad(lambda w: rho(E + w) * F(w), a, b, limit=800)[0]
                for a, b in ((-8.0, -E), (-E, 0.0), (0.0, 4.0 - E)))
    expected = eta**2 * total / (m * T)
    # the chapter's continuum ratio (its quadrature with the package's rho, split at its
    # window): the same integral, to the quadratures' accuracy
    assert values["born_rate_continuum_ratio"] == pytest.approx(expected, abs=1e-6)
    # the missing k = p term eta^2 t^2 / L^2 over m T, with the side of the box holding 1000
    # levels in the decay width, L^2 rho 2 pi rho eta^2 = 1000 (rounded)
    L = round(math.sqrt(1000 / (_rho2(E) * m * eta**2)))
    kp = eta**2 * t**2 / L**2 / (m * T)
    assert values["born_rate_kp_term"] == pytest.approx(kp, rel=1e-10)
    assert values["born_rate_predicted"] == pytest.approx(expected - kp, abs=1e-6)
    # the text: the twist average matches the prediction within its error. Allowed: 2 of
    # its standard errors, plus 2e-5 for what the prediction leaves out: each realization's
    # p is the grid momentum nearest the target (half a grid spacing, 1 / (2 L) ~ 1e-3 per
    # component, a relative change of its rate of order 1e-2), which enters the ratio only
    # through its small correction 1 - ratio ~ 2e-3: a few 1e-5 at most
    assert abs(values["born_rate_ratio"] - (expected - kp)) < \
        2 * values["born_rate_ratio_se"] + 2e-5
    # ... and the distance from 1 is not the k = p term alone (the finite time dominates)
    assert 1 - values["born_rate_ratio"] > 10 * kp


def test_speckle_of_the_survival_matches_the_second_order_formula(values):
    # the spread of 32 realizations estimates a standard deviation with relative error
    # 1/sqrt(2 * 31) = 0.127; 3 of those
    tol = 2 / np.sqrt(2 * 31)                  # the text's +-25 %: two standard errors
    assert abs(values["level_count_spread_ratio_d2"] - 1) < tol
    # in d = 3 the twisted grid's own rate adds to the spread: above that range
    assert values["level_count_spread_ratio_d3"] > 1 + tol


def test_degenerate_momentum_and_images_are_counted(values):
    L = 88
    k = np.arange(L) / L
    c = 2 * np.cos(2 * np.pi * k)
    e = c[:, None, None] + c[None, :, None] + c[None, None, :]
    assert values["degenerate_count"] == int(np.sum(np.abs(e) < 1e-9))
    # the first-order leak eta sqrt(N_deg / L^3) against the golden rule 2 pi rho_3(0)
    # eta^2, rho_3 by an independent quadrature (rho_1 * rho_2); the text: "of the order
    # of" the golden rule, i.e. within a factor 3
    from scipy import integrate
    rho3 = integrate.quad(lambda th: _rho2(-2 * np.cos(th)) / np.pi, 0, np.pi,
                          points=[np.pi / 2], limit=400)[0]
    ratio = 0.05 * np.sqrt(values["degenerate_count"] / L**3) / (2 * np.pi * rho3 * 0.05**2)
    assert values["degenerate_rate_ratio"] == pytest.approx(ratio, rel=1e-6)
    assert 1 / 3 < ratio < 3
    # 2^3 3! = 48 images of a generic p on a periodic cubic grid, only p on a twisted one
    assert values["images_on_grid_periodic"] == 48
    assert values["images_on_grid_twisted_max"] == 1


def test_small_box_holds_too_few_levels(values):
    E = float(np.sum(2 * np.cos(2 * np.pi * np.array(TARGETS[2]))))
    expected = 128**2 * _rho2(E) * 2 * np.pi * _rho2(E) * 0.1**2
    assert values["small_box_levels"] == pytest.approx(expected, rel=1e-10)
    assert values["small_box_levels"] < 100      # the text: too few (the book uses 1000)
    # the Heisenberg time in units of 1 / m: m t_H = 2 pi rho eta^2 2 pi rho L^d = 2 pi N
    assert values["small_box_heisenberg_mT"] == pytest.approx(2 * np.pi * expected, rel=1e-10)
    assert values["small_box_heisenberg_mT"] > 10 * 2.0 * 2 * np.pi * _rho2(E)  # >> m T, T = 2
    # the measured effect (>= 16 realizations for an error bar): the survival at T = 2 reads
    # high, and the rate read from it is below m, beyond 3 standard errors (one-sided, 0.1 %);
    # in the stored box of about 1000 levels the rate is m within 3 standard errors
    assert values["small_box_realizations"] >= 16
    assert values["small_box_survival_T2"] > 3 * values["small_box_survival_T2_se"]
    assert 1 - values["small_box_rate_ratio"] > 3 * values["small_box_rate_ratio_se"]
    assert abs(values["stored_box_rate_ratio"] - 1) < 3 * values["stored_box_rate_ratio_se"]
    assert abs(values["stored_box_survival_T2"]) < 3 * values["stored_box_survival_T2_se"]
    # the two forms agree: rate ratio - 1 ~ -dS / (S m T) to first order, so the ratio's
    # error is the survival's error over S m T with S = exp(-m T) (within 15 %: S is shifted
    # by the deviation, ~10 % in the small box, and the first-order expansion of the
    # logarithm adds a few per cent more)
    mT = 2 * np.pi * _rho2(E) * 2.0
    assert values["small_box_rate_ratio_se"] == pytest.approx(
        values["small_box_survival_T2_se"] / (np.exp(-mT) * mT), rel=0.15)


# ---------------------------------------------------------------------------------------
# Experiment 2 (Theorem 2.1 in phase space) and Experiment 3 (diffusion)
# ---------------------------------------------------------------------------------------
# The set-ups of the chapter (wkb_experiment.WKBExperiment, visible in its code cells).
W = 0.5
WKB = {2: dict(p=(0.125, 0.25), q=(0.25, 0.125), T1=1.0, book=(0.4, 0.34, 0.28),
               stored=(0.2, 0.14, 0.1)),
       3: dict(p=(0.125, 0.25, 0.375), q=(0.25, 0.125, 0.375), T1=0.5, book=(0.5,),
               stored=(0.4, 0.35, 0.3, 0.25, 0.2))}
# Its test functions: J_1 at X = v(p) T_1, V = p (widths 0.5, 0.05); J_2 at X = 0, V = q
# (1.5, 0.05); J_3 at X = 0 (1.0), no momentum dependence.
# One-sided statistical comparisons: 3 combined standard errors (0.1 % each).
N_SE = 3.0


def _velocity(p):
    return [-2.0 * math.sin(2.0 * math.pi * pi) for pi in p]


def _closed_form_initial_pairing(j, d, s):
    """<J_j, F_0^eta> as a product of one-dimensional Gaussian integrals (s = momentum spread).

    Per axis, int exp(-(X - c)^2 / 2a^2) N(0, w^2)(X) dX = a / sqrt(a^2 + w^2)
    exp(-c^2 / 2(a^2 + w^2)), and the periodised Gaussian of width sigma at V0 against
    the periodised normal law of width s at p gives sigma / sqrt(sigma^2 + s^2)
    sum_k exp(-(V0 - p + k)^2 / 2(sigma^2 + s^2)).
    """
    setup = WKB[d]
    p = setup["p"]
    if j == 1:
        centre, a = [v * setup["T1"] for v in _velocity(p)], 0.5
        momentum, sigma = p, 0.05
    elif j == 2:
        centre, a, momentum, sigma = [0.0] * d, 1.5, setup["q"], 0.05
    else:
        centre, a, momentum, sigma = [0.0] * d, 1.0, None, None
    out = 1.0
    for i in range(d):
        out *= a / math.hypot(a, W) * math.exp(-centre[i] ** 2 / (2 * (a**2 + W**2)))
        if momentum is not None:
            var = sigma**2 + s**2
            out *= sigma / math.sqrt(var) * sum(
                math.exp(-(momentum[i] - p[i] + k) ** 2 / (2 * var)) for k in range(-3, 4))
    return out


def test_initial_pairings_equal_the_closed_form_of_the_states_wigner_function(values):
    # At T = 0 no disorder has acted: the pairing of the lattice WKB state equals the
    # integral against F_0^eta = N(0, w^2)(X) g_s(V - p), s = eta^2 / (4 pi w), up to
    # lattice corrections of order exp(-2 pi^2 sigma^2), sigma >= 1.4 sites (eta = 0.5):
    # below 1e-16; 1e-10 leaves room for rounding in the tensor-product sums.
    for d, setup in WKB.items():
        for eta in setup["book"] + setup["stored"]:
            s = eta**2 / (4 * math.pi * W)
            for j in (1, 2, 3):
                assert values[f"wigner_T0_J{j}_d{d}_{eta}"] == pytest.approx(
                    _closed_form_initial_pairing(j, d, s), abs=1e-10), (d, eta, j)
    assert values["wkb_spread_0.4"] == pytest.approx(0.16 / (2 * math.pi), rel=1e-12)


def test_wigner_exercise_sublattice_images_and_closed_form(values):
    # Poisson summation: the images at p + 1/2 carry the signs +1 (integer x) and -1
    # (half-integer x) exactly, up to exp(-2 pi^2 (w / mu)^2) ~ 1e-150
    assert values["wkb_image_ratio_integer"] == pytest.approx(1.0, abs=1e-12)
    assert values["wkb_image_ratio_half"] == pytest.approx(-1.0, abs=1e-12)
    # a box of +-8 packet widths: truncation exp(-32) ~ 1e-14, then rounding
    assert values["wkb_pairing_closed_form_error"] < 1e-12


def test_stored_studies_have_enough_realizations(values):
    # error bars need >= 16 realizations (the chapter's rule, and sup_deviation's minimum)
    for d, setup in WKB.items():
        for eta in setup["stored"]:
            assert values[f"wigner_realizations_d{d}_{eta}"] >= 16
        for eta in setup["book"] + setup["stored"]:
            assert values[f"wigner_delta_realizations_d{d}_{eta}"] >= 16


def test_the_delta_initial_state_error_is_resolved_and_falls_with_eta(values):
    for d in (2, 3):
        for eta in WKB[d]["book"]:
            assert values[f"wigner_delta_resolved_d{d}_{eta}"] is True, (d, eta)
    # the text (d = 2): resolved down to eta = 0.2, below the noise floor at 0.14 and 0.1
    assert values["wigner_delta_resolved_d2_0.2"] is True
    assert values["wigner_delta_resolved_d2_0.14"] is False
    assert values["wigner_delta_resolved_d2_0.1"] is False
    assert values["wigner_rate_min_eta_delta_d2"] == 0.2
    # a decreasing power law, determined: exponent more than 3 standard errors above 0
    rate, se = values["wigner_rate_delta_d2"], values["wigner_rate_se_delta_d2"]
    assert values["wigner_rate_points_delta_d2"] >= 3
    assert rate - N_SE * se > 0
    # the initial-state error is of order s^2 ~ eta^4 for small s; at these eta the
    # measured exponent is below that (pre-asymptotic) but not above it
    assert rate < 4 + N_SE * se
    # the smallest resolved point (eta = 0.2) is known to better than a third of itself
    assert values["wigner_delta_se_d2_0.2"] < values["wigner_delta_d2_0.2"] / 3
    # below the floor at eta = 0.14 and 0.1 is what the fitted fall predicts: the eta = 0.2
    # value continued with a conservatively shallow exponent (2 standard errors below the
    # fit) lies under the quoted noise floors
    shallow = rate - 2 * se
    for eta in (0.14, 0.1):
        predicted = values["wigner_delta_d2_0.2"] * (eta / 0.2) ** shallow
        assert predicted < values[f"wigner_delta_floor_d2_{eta}"], eta


def test_the_fall_against_F0_steepens(values):
    # the text: the local slope between the two smallest resolved eta is larger than between
    # the two largest, in both dimensions (one fitted power describes the range only);
    # recomputed from the glued deviations
    for d, etas in ((2, [e for e in WKB[2]["book"] + WKB[2]["stored"] if e >= 0.2]),
                    (3, sorted(WKB[3]["book"] + WKB[3]["stored"], reverse=True))):
        etas = sorted(etas, reverse=True)
        v = [values[f"wigner_delta_d{d}_{e}"] for e in etas]
        largest = math.log(v[1] / v[0]) / math.log(etas[1] / etas[0])
        smallest = math.log(v[-1] / v[-2]) / math.log(etas[-1] / etas[-2])
        assert values[f"wigner_slope_largest_delta_d{d}"] == pytest.approx(largest, rel=1e-12)
        assert values[f"wigner_slope_smallest_delta_d{d}"] == pytest.approx(smallest, rel=1e-12)
        assert smallest > largest + 1, d


def test_the_initial_state_carries_most_of_the_large_eta_error(values):
    # the text: against F_0^eta the deviation at the largest eta of each dimension is a
    # small fraction of the deviation against F_0 (beyond the errors of both)
    for d, eta in ((2, 0.4), (3, 0.5)):
        delta, actual = values[f"wigner_delta_d{d}_{eta}"], values[f"wigner_actual_d{d}_{eta}"]
        se = math.hypot(values[f"wigner_delta_se_d{d}_{eta}"],
                        values[f"wigner_actual_se_d{d}_{eta}"])
        assert actual + N_SE * se < 0.5 * delta, (d, eta)


def test_in_3d_the_kinetic_error_is_resolved_and_falls(values):
    # the text (d = 3): against F_0^eta every deviation is resolved and falls at a
    # determined rate; down to eta = 0.25 it is smaller than the deviation against F_0
    # beyond 3 combined errors, at eta = 0.2 the two agree within 3 combined errors (the
    # initial-state error, ~ eta^4, has become as small as the kinetic one)
    for eta in WKB[3]["book"] + WKB[3]["stored"]:
        assert values[f"wigner_actual_resolved_d3_{eta}"] is True, eta
        delta, actual = values[f"wigner_delta_d3_{eta}"], values[f"wigner_actual_d3_{eta}"]
        se = math.hypot(values[f"wigner_delta_se_d3_{eta}"], values[f"wigner_actual_se_d3_{eta}"])
        if eta >= 0.25:
            assert actual + N_SE * se < delta, eta
        else:
            assert abs(delta - actual) < N_SE * se, eta
    rate, se = values["wigner_rate_actual_d3"], values["wigner_rate_se_actual_d3"]
    assert values["wigner_rate_points_actual_d3"] == len(WKB[3]["book"] + WKB[3]["stored"])
    assert rate - N_SE * se > 0
    rate, se = values["wigner_rate_delta_d3"], values["wigner_rate_se_delta_d3"]
    assert rate - N_SE * se > 0 and rate < 4 + N_SE * se


def test_the_kinetic_error_is_below_the_noise_at_small_eta_in_2d(values):
    # the text: against F_0^eta, no resolved deviation from eta = 0.28 down (2D)
    for eta in (0.28,) + WKB[2]["stored"]:
        assert values[f"wigner_actual_resolved_d2_{eta}"] is False, eta
    for eta in WKB[2]["stored"]:      # more realizations: a lower floor
        assert values[f"wigner_actual_floor_d2_{eta}"] < values["wigner_actual_floor_d2_0.4"]


def test_the_J2_deviation_is_resolved_and_falls(values):
    for eta in WKB[2]["book"] + WKB[2]["stored"]:
        assert values[f"wigner_J2_resolved_d2_{eta}"] is True, eta
    rate, se = values["wigner_rate_J2_d2"], values["wigner_rate_se_J2_d2"]
    assert values["wigner_rate_points_J2_d2"] == len(WKB[2]["book"] + WKB[2]["stored"])
    assert rate - N_SE * se > 0
    # the text: the points at eta = 0.4 and 0.34 agree within 3 combined errors, and the
    # maximum sits at T <= 1/2 for every eta >= 0.2
    assert abs(values["wigner_J2_d2_0.4"] - values["wigner_J2_d2_0.34"]) < N_SE * math.hypot(
        values["wigner_J2_se_d2_0.4"], values["wigner_J2_se_d2_0.34"])
    for eta in WKB[2]["book"] + (0.2,):
        assert values[f"wigner_J2_argmax_T_d2_{eta}"] <= 0.5, eta
    # the text: J_2 falls further from eta = 0.14 to 0.1, where it is resolved "only just"
    # (above its noise floor by less than two standard errors) with an error below a
    # third of the point
    j14, j10 = values["wigner_J2_d2_0.14"], values["wigner_J2_d2_0.1"]
    se10 = values["wigner_J2_se_d2_0.1"]
    assert values["wigner_J2_se_d2_0.14"] < j14 / 3           # the quoted eta = 0.14 point
    assert j10 < j14 and se10 < j10 / 3
    assert values["wigner_J2_floor_d2_0.1"] < j10 < values["wigner_J2_floor_d2_0.1"] + 2 * se10


def test_the_J2_window_is_thinner_than_the_scattered_shell(values):
    # the energy-time thickness 1 / (|v(q)| t) of the scattered shell at eta = 0.4, T = 1/4:
    # v(q) = (-2 sin 2 pi q_i)_i at q = (1/4, 1/8) is (-2, -sqrt 2), |v(q)| = sqrt 6
    speed = math.sqrt(6.0)
    thickness = 0.4**2 / (speed * 0.25)
    assert values["wigner_J2_speed_d2"] == pytest.approx(speed, rel=1e-12)
    assert values["wigner_J2_shell_thickness_0.4"] == pytest.approx(thickness, rel=1e-12)
    assert values["wigner_J2_thickness_over_window_0.4"] == pytest.approx(thickness / 0.05,
                                                                           rel=1e-12)
    # the text: it exceeds the window of width 0.05 (several times)
    assert thickness > 3 * 0.05


def test_the_3d_wigner_setup_numbers(values):
    # a fraction 1 - exp(-m T) has scattered at T = 1, m = 2 pi rho_3(0) (e(p) = 0), rho_3 by
    # an independent quadrature (rho_1 * rho_2, the log singularity of rho_2 at the centre)
    from scipy import integrate
    rho3 = integrate.quad(lambda th: _rho2(-2 * np.cos(th)) / np.pi, 0, np.pi,
                          points=[np.pi / 2], limit=400)[0]
    assert values["wigner_d3_scattered_fraction"] == pytest.approx(
        1 - math.exp(-2 * math.pi * rho3), rel=1e-6)
    # the box [-4.5, 4.5]^3 at scale eta^2: side 2 ceil(4.5 / eta^2) sites
    sides = {eta: 2 * math.ceil(4.5 / eta**2) for eta in (0.5, 0.4, 0.2)}
    assert values["wigner_d3_side_0.5"] == sides[0.5]
    assert values["wigner_d3_side_0.2"] == sides[0.2]
    assert values["wigner_d3_sites_0.2"] == sides[0.2] ** 3
    # the cost from eta = 0.4 to 0.2: sites times time steps (t = T / eta^2), close to the
    # 2^8 of the scaling eta^-8 (the sides are rounded up to even integers)
    count = (sides[0.2] / sides[0.4]) ** 3 * (0.4 / 0.2) ** 2
    assert values["wigner_d3_count_ratio"] == pytest.approx(count, rel=1e-12)
    assert abs(count / 2**8 - 1) < 0.1
    # the measured core time per realization, from the stored provenance files (wall time
    # times workers over realizations), read here directly
    import json
    from pathlib import Path
    root = Path(__file__).resolve().parents[1] / "data" / "studies"

    def core_time(name):
        sessions = json.loads((root / name / "provenance.json").read_text())["sessions"]
        return (sum(x["wall_time"] * x["executor"]["num_workers"] for x in sessions)
                / sum(x["num_realizations"] for x in sessions))
    ratio = core_time("wigner_3d_eta0.2") / core_time("wigner_3d_eta0.4")
    assert values["wigner_d3_core_time_ratio"] == pytest.approx(ratio, rel=1e-12)


def _shell_mean_square_velocity_2d(E):
    # coarea in d = 2: <|v|^2>_E = int dU_1 sum_{U_2} |v|^2 / |d_2 e| / rho_2(E), with
    # cos(2 pi U_2) = c = (E - 2 cos 2 pi U_1) / 2 (two roots, same |v|^2 and |d_2 e|),
    # |v|^2 = 4 sin^2(2 pi U_1) + 4 (1 - c^2), |d_2 e| = 4 pi sqrt(1 - c^2)
    from scipy.integrate import quad

    def integrand(u):
        c = (E - 2.0 * math.cos(2.0 * math.pi * u)) / 2.0
        if abs(c) >= 1.0:
            return 0.0
        root = math.sqrt(1.0 - c * c)
        return 2.0 * (4.0 * math.sin(2.0 * math.pi * u) ** 2 + 4.0 * root**2) / (4.0 * math.pi * root)

    u_edge = math.acos((E - 2.0) / 2.0) / (2.0 * math.pi)   # where c = 1 (|E| < 4)
    value = quad(integrand, -u_edge, u_edge, epsabs=1e-13, epsrel=1e-11, limit=400)[0]
    return value / _rho2(E)


def test_diffusion_constant_matches_independent_quadrature(values):
    E = math.sqrt(2.0)                          # e(p) for p = (1/8, 1/4)
    m = 2.0 * math.pi * _rho2(E)
    B = _shell_mean_square_velocity_2d(E)
    assert values["diffusion_m"] == pytest.approx(m, rel=1e-10)
    assert values["diffusion_B"] == pytest.approx(B, rel=1e-7)   # quad tolerance
    assert values["diffusion_D"] == pytest.approx(B / (2 * m), rel=1e-7)
    assert values["diffusion_mean_free_times"] == pytest.approx(8 * m, rel=1e-10)
    # slope between T = 6 and 8 of the closed form (exercise): A = |v(p)|^2 - B
    A = sum(v**2 for v in _velocity((0.125, 0.25))) - B

    def msd(T):
        return (2 * A * (1 - math.exp(-m * T) * (1 + m * T)) + 2 * B * (m * T - 1 + math.exp(-m * T))) / m**2
    slope = (msd(8.0) - msd(6.0)) / 2.0
    assert values["diffusion_slope_formula"] == pytest.approx(slope, rel=1e-7)
    # the text: 2dD (d = 2) and the exponential e^{-6m} still present at T = 6; the slope
    # between T = 6 and 8 differs from 2dD = 2B/m only through terms carrying e^{-mT}:
    # d/dT msd = 2 A T e^{-mT} + (2B/m)(1 - e^{-mT}), so by at most (16|A| + 2B/m) e^{-6m}
    assert values["diffusion_slope_theory"] == pytest.approx(4 * B / (2 * m), rel=1e-7)
    assert values["diffusion_exp_6"] == pytest.approx(math.exp(-6 * m), rel=1e-9)
    assert abs(slope - 2 * B / m) <= (16 * abs(A) + 2 * B / m) * math.exp(-6 * m)
    # Monte Carlo: the two times share particles, so the hypot of their errors is an
    # upper bound of the error of the difference
    assert abs(values["diffusion_slope_mc"] - slope) < N_SE * values["diffusion_slope_mc_se"]


def test_monte_carlo_msd_matches_the_closed_form(values):
    # 7 times, each within 4 Monte Carlo standard errors (false alarm ~4e-4)
    assert values["mc_msd_max_deviation_sigma"] < 4.0


def test_schrodinger_msd_deficit_is_resolved_and_falls_like_eta_squared(values):
    etas = (0.4, 0.3, 0.25, 0.2)
    deficit = {eta: values[f"msd_deficit_{eta}"] for eta in etas}
    se = {eta: values[f"msd_deficit_se_{eta}"] for eta in etas}
    for eta in etas:
        assert values[f"msd_realizations_{eta}"] >= 16
        # the text: "... realizations each", the number of the eta = 0.2 study
        assert values[f"msd_realizations_{eta}"] == values["diffusion_realizations_0.2"]
    # the deficit at T = 8 is resolved at the largest eta ...
    assert deficit[0.4] > N_SE * se[0.4]
    # ... and falls: consistent with O(eta^2) corrections. Weighted fit c eta^2 through the
    # origin, every point within 3 standard errors of it (4 points: ~1 % false alarm)
    wgt = {eta: 1 / se[eta] ** 2 for eta in etas}
    c = sum(wgt[e] * deficit[e] * e**2 for e in etas) / sum(wgt[e] * e**4 for e in etas)
    for eta in etas:
        assert abs(deficit[eta] - c * eta**2) < N_SE * se[eta], eta
    rate, rate_se = values["msd_deficit_rate"], values["msd_deficit_rate_se"]
    assert abs(rate - 2.0) < N_SE * rate_se


def test_atlas_values_are_the_chapters_rates(values):
    # the "Theorems and experiments" page quotes these: the same numbers as the chapter
    for d in (2, 3):
        assert values[f"atlas_wigner_rate_d{d}"] == values[f"wigner_rate_delta_d{d}"]
        assert values[f"atlas_wigner_rate_se_d{d}"] == values[f"wigner_rate_se_delta_d{d}"]
    # the relaxation rate exported is the one of the boxes of one larger level count (the
    # 1000-level fit hides a box effect at eta = 0.1)
    assert values["atlas_relaxation_rate_d3"] == values["large_box_rate_d3"]
    assert values["atlas_relaxation_rate_se_d3"] == values["large_box_rate_se_d3"]
