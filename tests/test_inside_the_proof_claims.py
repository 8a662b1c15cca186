"""The numbers stated in book/inside_the_proof.md, checked against theory.

Values are read from the notebook the book build executed (``book_values.py``); the
fixture ``built_book`` builds the book once per session. Every reference value is
computed here independently of the chapter's code path (closed forms with ``math`` and
``scipy``, exact fractions), and every tolerance says where it comes from.
"""
import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import special

from book_values import chapter_values

pytestmark = pytest.mark.book


values = chapter_values("book/inside_the_proof")

# Statistical comparisons: one claim per line, so 3 standard errors (two-sided 0.3 %).
N_SE = 3


def double_factorial(k):
    return math.prod(range(k, 0, -2)) if k > 0 else 1


def rho3(energy):
    """Density of states of e(k) = sum_i 2 cos(2 pi k_i) on T^3, by an independent route:
    the 2D density (1/2 pi^2) K(1 - E^2/16) (complete elliptic integral, parameter m)
    averaged over the third coordinate."""
    from scipy import integrate

    def rho2(e):
        return special.ellipk(1 - e * e / 16) / (2 * math.pi**2)

    kink = [math.acos(energy / 2) / (2 * math.pi)] if abs(energy) < 2 else None
    value, _ = integrate.quad(lambda p: rho2(energy - 2 * math.cos(2 * math.pi * p)), 0, 0.5,
                              points=kink, limit=400, epsabs=1e-13, epsrel=1e-12)
    return 2 * value


# --------------------------------------------------------------------------------------
# Graphs: exact statements
# --------------------------------------------------------------------------------------
def test_every_enumerated_graph_was_classified_and_matched_the_formulas(values):
    # graphs with n + nbar = 2m, over the 2m + 1 positions of J: (2m + 1) (2m - 1)!!
    expected = sum((m2 + 1) * double_factorial(m2 - 1) for m2 in range(2, 17, 2))
    assert values["graphs_checked"] == expected
    assert values["graph_formula_mismatches"] == 0
    assert values["graphs_unexplained"] == 0
    assert values["multiline_formulas_ok"] is True


def test_class_sizes_quoted_for_m_equal_8(values):
    total = double_factorial(15)
    assert values["total_m8"] == total
    # decorated ladders of Gamma_{8,8}: k rungs, k even, C((8 + k)/2, k)^2
    assert values["dl_m8"] == sum(math.comb((8 + k) // 2, k) ** 2 for k in range(0, 9, 2))
    # crossing = total - Catalan(8)
    catalan8 = math.comb(16, 8) // 9
    assert abs(values["crossing_fraction_m8"] - (1 - catalan8 / total)) < 1e-12


def test_superfactorial_ratio(values):
    # log 119!! = log 120! - 60 log 2 - log 60!
    log_dfact = math.lgamma(121) - 60 * math.log(2) - math.lgamma(61)
    assert abs(values["superfactorial_ratio_r6"] - log_dfact / math.lgamma(21)) < 1e-12
    # "tends to r/2 = 3 slowly": (r nbar / 2) log(r nbar) / (nbar log nbar) > r/2 at nbar = 20
    assert values["superfactorial_ratio_r6"] > 3


# --------------------------------------------------------------------------------------
# The truncation of the expansion
# --------------------------------------------------------------------------------------
def _truncation(eta, kappa):
    L = math.log(1 / eta)
    N = kappa * L / math.log(L)
    lf = math.lgamma(N + 1)
    return N, lf / L, 0.4 - (lf + N * math.log(L)) / L


def test_truncation_table(values):
    etas = [1e-2, 1e-5, 1e-10, 1e-50, 1e-300]
    one = [_truncation(eta, 1.0) for eta in etas]
    small = [_truncation(eta, values["kappa_small"]) for eta in etas]
    assert values["kappa_small"] < 0.2                 # the constant must be below 1/5
    assert abs(values["trunc_beta_kappa1_max"] - max(r[2] for r in one)) < 1e-12
    assert abs(values["trunc_beta_kappa1_min"] - min(r[2] for r in one)) < 1e-12
    assert abs(values["trunc_logfact_min"] - min(r[1] for r in one)) < 1e-12
    assert abs(values["trunc_logfact_max"] - max(r[1] for r in one)) < 1e-12
    assert abs(values["trunc_beta_small_min"] - min(r[2] for r in small)) < 1e-12
    assert abs(values["trunc_N_small_1e-10"] - small[2][0]) < 1e-12
    assert abs(values["trunc_N_small_1e-300"] - small[4][0]) < 1e-12
    # the claims of the text: with kappa = 1 the bound diverges ((log 1/eta)^N = 1/eta
    # alone costs more than the gain 2/5), with kappa < 1/5 it vanishes
    assert values["trunc_beta_kappa1_max"] < 0.4 - 1
    assert values["trunc_beta_small_min"] > 0
    # N! = eta^{-1 + o(1)} with N! < N^N < 1/eta: log N! / L in (0, 1)
    assert 0 < values["trunc_logfact_min"] < values["trunc_logfact_max"] < 1


def test_truncation_order_values(values):
    L = math.log(5.0)
    assert abs(values["N_eta02"] - L / math.log(L)) < 1e-12
    assert abs(values["N_min"] - math.e) < 1e-15
    # N(eta) = 10: L / log L = 10, solved by bisection
    lo, hi = math.e, 1e3
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if mid / math.log(mid) < 10 else (lo, mid)
    assert abs(values["eta_N_exceeds_10"] / math.exp(-lo) - 1) < 1e-9


# --------------------------------------------------------------------------------------
# Duhamel terms
# --------------------------------------------------------------------------------------
def test_duhamel_sum_error_is_the_tail_beyond_order_32(values):
    err, nxt = values["duhamel_sum_error"], values["duhamel_next_term"]
    r, floor = values["duhamel_tail_ratio"], values["duhamel_error_floor"]
    assert 0 < r < 0.5
    # sum_{n > 32} psi^(n) with ||psi^(n+1)|| ~ r ||psi^(n)||: by the triangle inequality
    # its norm lies between (1 - r/(1 - r)) and 1/(1 - r) times ||psi^(33)||, up to the
    # accuracy floor of the two Chebyshev series
    assert (1 - r / (1 - r)) * nxt - floor <= err <= nxt / (1 - r) + floor
    # the floor: two Chebyshev series, each accurate to tol = 1e-12 relative to ||psi0||
    assert floor <= 2e-12
    assert err > 4 * floor                 # so the error at n = 32 is not the floor
    # the order where the error levels off: where the geometric tail r^(n - 33) ||psi^(33)||
    # falls below the floor (within two orders; the criterion in the chapter is a factor 2)
    predicted = 33 + math.log(floor / nxt) / math.log(r)
    assert abs(values["duhamel_floor_order"] - predicted) <= 2


def test_degenerate_momenta_of_the_box(values):
    L = 48
    c = 2 * np.cos(2 * np.pi * np.arange(L) / L)
    e = c[:, None, None] + c[None, :, None] + c[None, None, :]
    assert values["degenerate_momenta"] == int(np.sum(np.abs(e) < 1e-9))


def _first_order_box(L, eta, t):
    c = 2 * np.cos(2 * np.pi * np.arange(L) / L)
    e = (c[:, None, None] + c[None, :, None] + c[None, None, :]).ravel()
    small = np.abs(e) < 1e-9
    w = np.where(small, t**2, 4 * np.sin(e * t / 2) ** 2 / np.where(small, 1.0, e) ** 2)
    return eta**2 * w.mean()


def test_ensemble_first_order_matches_its_exact_box_value(values):
    # E||psi^(1)||^2 is exact in the box for Gaussian V; the ensemble mean must agree
    assert values["duhamel_ensemble_R"] >= 16
    assert abs(values["ensemble_first_order_z"]) < N_SE
    x = 2 * math.pi * rho3(0.0)
    box = _first_order_box(48, 0.2, 25.0)
    assert abs(values["first_order_box_correction"] - (box / x - 1)) < 1e-6   # nu_1 = x
    # a finite-t correction of order eta^2 / T: below eta^2 = 0.04 in size
    assert abs(values["first_order_box_correction"]) < 0.04
    # at t = 50 the exactly degenerate momenta (weight t^2 instead of ~t) dominate
    box50 = _first_order_box(48, 1.0, 50.0) / (2 * math.pi * rho3(0.0) * 50) - 1
    assert abs(values["first_order_box_correction_t50"] - box50) < 1e-6
    assert values["first_order_box_correction_t50"] > 0.1


def test_duhamel_norms_follow_the_ladder_formula(values):
    dev = values["ensemble_dev_n5"]
    spread = values["ensemble_dev_spread_n5"]
    # error bars only from >= 16 realizations
    assert values["duhamel_ensemble_R"] >= 16
    # order by order, as the text says: zero within 3 errors for n = 1, 2, and within two
    # errors at n = 3 ("within two errors"); the largest deviation at n = 5. (The text
    # quotes n = 4, 5 with their errors and does not call them established: 16
    # realizations, fewer than the 30 and the box check that the project's standard asks
    # of "beyond the statistical error"; the text says so.)
    devs = [values[f"ensemble_dev_n{n}"] for n in range(1, 6)]
    ses = [values[f"ensemble_dev_n{n}_se"] for n in range(1, 6)]
    assert abs(devs[0]) < N_SE * ses[0] and abs(devs[1]) < N_SE * ses[1]
    assert abs(devs[2]) < 2 * ses[2]
    assert values["ensemble_dev_max_n"] == 5
    assert max(abs(d) for d in devs) == abs(dev)
    # one realization at eta = 0.2 (max over n <= 5) within the noise of the ensemble
    assert abs(values["kinetic_norms_max_dev_eta02"] - abs(dev)) < N_SE * spread
    # sum_n nu_n = e^x I_0(x) at T = 2, computed independently
    x2 = 2 * math.pi * rho3(0.0) * 2.0
    assert abs(values["duhamel_sum_of_squares_kinetic"] / (math.exp(x2) * special.i0(x2))
               - 1) < 1e-6
    # the terms are exponentially larger than their sum (norm 1): the quoted contrast
    assert values["duhamel_sum_of_squares"] > 5


def test_peak_of_the_kinetic_norms(values):
    x = values["x_T4"]
    assert abs(x - 8 * math.pi * rho3(0.0)) < 1e-6
    nu = [math.comb(2 * n, n) * (x / 2) ** n / math.factorial(n) for n in range(30)]
    assert values["peak_order_T4"] == int(np.argmax(nu))
    assert abs(values["peak_value_T4"] / max(nu) - 1) < 1e-9
    # the peak near n = 2x: nu_{n+1}/nu_n = (2n + 1) x / (n + 1)^2 crosses 1 there
    assert abs(values["peak_order_T4"] - 2 * x) < 1.5


def test_non_ladder_graphs_take_over_later_for_smaller_eta(values):
    # one realization per eta, and the text says so: what is checked is the stated order
    # of the three departure orders in those realizations, not a property of the ensemble
    orders = [values[f"departure_order_{eta}"] for eta in (0.4, 0.3, 0.2)]
    assert orders == sorted(orders) and orders[0] >= 5 and orders[-1] > orders[0]


def test_truncation_error_is_the_kinetic_weight_of_long_histories(values):
    x = 2 * math.pi * rho3(0.0)
    z, total = -x / 2, 0.0
    for k in range(80):
        j_min = max(0, (3 - k) // 2 + 1)
        tail = math.exp(z) - sum(z**j / math.factorial(j) for j in range(j_min))
        total += x**k / math.factorial(k) * tail**2
    assert abs(values["truncation_error_kinetic_N3"] / math.sqrt(total) - 1) < 1e-6
    # the measured error (one realization, eta = 0.2) carries the per-term deviations of
    # the norms from the ladder formula, at most |dev| + 3 spreads (ensemble at eta = 0.2)
    tol = abs(values["ensemble_dev_n5"]) + N_SE * values["ensemble_dev_spread_n5"]
    assert abs(values["truncation_error_eta02_N3"] / math.sqrt(total) - 1) < tol


def test_single_graph_contributions(values):
    # ladder -> x^2 / 2 as eta -> 0. At eta = 0.2, T = 1 the finite-t correction of one
    # collision is -0.2 eta^2 / T (the exact first order, test above); allowing up to
    # eta^2 / T per collision, two collisions give 2 eta^2 = 8 % of 1/2, plus three
    # standard errors of the mean over the realizations
    assert values["graph_realizations"] >= 16
    ladder, se = values["ladder_over_x2_eta02"], values["ladder_over_x2_eta02_se"]
    assert abs(ladder - 0.5) < 0.5 * 2 * 0.2**2 + N_SE * se
    # crossing and nesting graphs are suppressed more strongly than the proven worst
    # case eta^{2/5}, by more than 3 bootstrap errors
    for key in ("crossing22", "crossing04", "nest04"):
        a, se = values[f"{key}_exponent"], values[f"{key}_exponent_se"]
        assert a - N_SE * se > 0.4, key
    # a single realization does not self-average the crossing at eta = 0.2 (box 48^3):
    # its relative spread is tens of percent, as the prose says
    assert 0.1 < values["crossing22_spread_eta02"] < 1.0
    ses = [values[f"{k}_exponent_se"] for k in ("crossing22", "crossing04", "nest04")]
    assert values["graph_exponent_se_max"] == max(ses)
    keys = [values[f"{k}_exponent"] for k in ("crossing22", "crossing04", "nest04")]
    assert values["graph_exponent_min"] == min(keys)
    assert values["graph_exponent_max"] == max(keys)


# --------------------------------------------------------------------------------------
# Resolvent bounds and the crossing integral
# --------------------------------------------------------------------------------------
def test_l1_norm_slope_is_two_rho_up_to_a_finite_eps_bias(values):
    small, mid, large = (values["l1_slope_over_2rho_max_dev"],
                         values["l1_slope_dev_window2_max"], values["l1_slope_dev_window3_max"])
    assert small < mid < large
    # the bias of the slope is eps^2 (A log(1/eps) + B): its effective power against eps is
    # 2 - A / (A log(1/eps) + B), within about 1/log(1/eps) of 2 (largest window), plus
    # twice the fit error
    width = 1 / math.log(1 / values["eps_window_large"]) + 2 * values["l1_bias_power_se_max"]
    assert 2 - width < values["l1_bias_power_min"] <= values["l1_bias_power_max"] < 2 + width
    # at the smallest window the bias is eps^2 log-sized (eps ~ 1e-3.1), far above rounding
    eps = values["eps_window_small"]
    assert 1e-3 * eps**2 < small < 10 * eps**2 * math.log(1 / eps)
    assert small > 1e3 * np.finfo(float).eps
    # "the linear fit's own standard error ... measures only the curvature within a window":
    # it is smaller than the bias of the slope it fails to see
    assert 0 < values["l1_slope_fit_se_max"] < small


def _least_squares_slope(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    return np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)


def test_grid_convergence_rate_matches_the_analyticity_strip(values):
    # per-axis strip of half-width eps / (4 pi): the asymptotic rate is exactly 1/2 in
    # N eps. The fit with the algebraic prefactor (N eps)^(-s) over N eps <= 36 must give
    # it within 3 of its errors (residual-scatter errors), at both eps
    for eps in (0.25, 0.125):
        c, c_se = values[f"grid_rate_long_{eps}"], values[f"grid_rate_long_se_{eps}"]
        assert abs(c - 0.5) < N_SE * c_se, eps
        s, s_se = values[f"grid_prefactor_power_{eps}"], values[f"grid_prefactor_power_se_{eps}"]
        assert s > N_SE * s_se, eps                  # the prefactor is there
    # the short fit (N eps = 4..12, step 2) is above 1/2 beyond its error, as the text says,
    # and the prefactor explains the excess: a least-squares line through
    # -N eps / 2 - s log(N eps) has slope -(1/2 + s * slope of log(N eps)), computed here;
    # 3 combined errors of the two fits (s from eps = 0.125)
    rate, se = values["grid_error_rate"], values["grid_error_rate_se"]
    s, s_se = values["grid_prefactor_power_0.125"], values["grid_prefactor_power_se_0.125"]
    assert rate - 0.5 > N_SE * se
    k_short = [4, 6, 8, 10, 12]
    g_short = _least_squares_slope(k_short, np.log(k_short))
    assert abs(rate - (0.5 + s * g_short)) < N_SE * math.hypot(se, s_se * g_short)
    # the plain exponential fit far out (N eps = 20..36) is on its way down to 1/2: below
    # the short fit, above 1/2, and again 1/2 + s * slope of log over its window
    late, late_se = values["grid_rate_late_0.125"], values["grid_rate_late_se_0.125"]
    k_late = list(range(20, 37, 2))
    g_late = _least_squares_slope(k_late, np.log(k_late))
    assert 0.5 < late < rate - N_SE * se
    assert abs(late - (0.5 + s * g_late)) < N_SE * math.hypot(late_se, s_se * g_late)
    assert values["grid_error_at_16"] < 1e-4
    # N = 12/eps vs 16/eps: exp(-6) ~ 2.5e-3 times a prefactor < 1
    assert values["crossing_grid_rel_diff_0"] < 2e-3
    assert values["crossing_grid_rel_diff_2"] < 2e-3
    # grid L1 norms vs the K_0 quadrature: the same exponential grid error at N eps = 16
    assert values["grid_l1_vs_quadrature_max_dev"] < 1e-4


def test_crossing_memory_and_grid(values):
    assert abs(values["eps_min_3d"] - 0.25 * 2 ** -3.5) < 1e-15
    N = values["largest_grid_3d"]
    assert N == 8 * math.ceil(math.ceil(16 / values["eps_min_3d"]) / 8)
    assert abs(values["crossing_memory_largest_gb"] - 24 * (N // 2 + 1) ** 3 / 1e9) < 1e-9
    assert abs(values["crossing_memory_1024_gb"] - 24 * 513**3 / 1e9) < 1e-9
    assert abs(values["log_correction_exponent"] - 2 / math.log(1 / values["eps_min_3d"])) < 1e-12
    # the 2D runs: eps = 0.1 halved six times
    assert abs(values["eps_min_2d"] - 0.1 * 2.0**-6) < 1e-15


def test_crossing_exponents_are_below_the_trivial_one(values):
    g0, e0 = values["crossing_exponent_0"], values["crossing_exponent_err_0"]
    g2, e2 = values["crossing_exponent_2"], values["crossing_exponent_err_2"]
    assert 0 < e0 and 0 < e2
    # "at alpha = 0 clearly below 3/4": two error bars below
    assert g0 + 2 * e0 < 0.75
    # "at alpha = 2 not yet distinguishable from 3/4", and below the trivial exponent 1
    # and below the exponent 4/5 of the theorem (the remark's "below 4/5 anyway")
    # ("not distinguishable": within the two error bars that "clearly below" uses)
    assert abs(g2 - 0.75) < 2 * e2 and g2 + 2 * e2 < 1 and g2 + 2 * e2 < 0.8
    # the quoted error bars (half the spread over windows and grids) are the larger,
    # conservative ones: the fits' own standard errors, quoted as smaller, are below them
    assert 0 < values["crossing_fit_se_max_0"] < e0
    assert 0 < values["crossing_fit_se_max_2"] < e2
    # the van Hove energy grows faster, beyond both error bars
    assert g2 - g0 > 2 * math.hypot(e0, e2)
    assert values["crossing_local_exponent_last_0"] < 0.75
    assert values["crossing_local_exponent_last_2"] < 0.8
    # the local exponent at alpha = 2 falls below 3/4 between grid points of eps_list
    eps_list = 0.25 * 2.0 ** (-np.arange(8) / 2)
    mids = np.sqrt(eps_list[1:] * eps_list[:-1])
    assert np.min(np.abs(mids - values["crossing_local_below_34_eps_2"])) < 1e-12


def test_crossing_integral_tracks_the_cube_of_the_l1_norm_at_the_band_centre(values):
    first, last = values["crossing_ratio_L1cubed_0_first"], values["crossing_ratio_L1cubed_0_last"]
    # "moves only": an extra power eps^(-delta) beyond ||R||_1^3 would change the ratio by
    # (0.25 / eps_min)^delta; a change below 10 % bounds delta < log 1.1 / log(0.25/eps_min)
    # = 0.04, below a tenth of the local exponent measured at the smallest eps
    assert first > 0 and abs(last / first - 1) < 0.1
    assert (math.log(1.1) / math.log(0.25 / values["eps_min_3d"])
            < values["crossing_local_exponent_last_0"] / 10)
    # at the van Hove energy the ratio grows ("genuinely faster")
    assert values["crossing_ratio_L1cubed_2_last"] / values["crossing_ratio_L1cubed_2_first"] > 1.15


def test_flat_2d_level_line_is_as_bad_as_the_trivial_bound(values):
    assert values["crossing2d_flat_last_exponent"] > 1.0
    # the maximum sits on u = (0, 1/2) or (1/2, 0), where the shifted square overlaps itself
    assert sorted(values["crossing2d_flat_argmax"]) == [0.0, 0.5]
    assert values["crossing2d_curved_last_exponent"] < values["crossing2d_flat_last_exponent"]


# --------------------------------------------------------------------------------------
# Dimensional reduction
# --------------------------------------------------------------------------------------
def test_level_line_geometry(values):
    # kappa_min = pi E / 2^{3/2} (1 + O(E^2)) fitted over E <= 0.01: slope 1 to 1e-4;
    # finite differences on 40001 points: ~1e-5 relative
    assert abs(values["curvature_slope"] - 1) < 1e-3
    assert values["curvature_formula_max_dev"] < 1e-3
    # counting on 4e6 grid points: >= 100 points in the smallest set, ~1% noise, and the
    # closed form is linear (E = 0) or a square root (E = 2) up to O(tau^2), O(tau)
    assert abs(values["bad_set_exponent_0"] - 1) < 0.02
    assert abs(values["bad_set_exponent_2"] - 0.5) < 0.02
    for key in ("bad_set_exponent_se_0", "bad_set_exponent_se_2", "curvature_slope_se"):
        assert 0 <= values[key] < 0.01, key
    # the fits run over tau <= tau_fit_max, the sixth of ten log-spaced tau in [1e-4, 1e-1]:
    # small enough that the O(tau^2), O(tau) corrections above stay below the 0.02 allowed
    assert abs(values["tau_fit_max"] - 10 ** (-4 + 5 / 3)) < 1e-15
    assert values["tau_fit_max"] < 0.01


def test_fourier_decay_of_the_level_set_measure(values):
    # stationary phase: exponent 1/2 exactly, next-order terms O(1/(kappa |x|)) beyond
    # |x| = 10/kappa bias the fit by < 1e-2
    assert abs(values["decay_exponent_mean"] - 0.5) < 5e-3
    assert values["decay_exponent_spread"] < 1e-2
    assert values["decay_exponent_se_max"] < 1e-2
    # amplitude ~ E^{-1/2} (1 + O(E^2)) over 0.025 <= E <= 0.8
    assert abs(values["prefactor_exponent"] + 0.5) < 0.02 + N_SE * values["prefactor_exponent_se"]
    assert values["prefactor_max_dev"] < 0.03


def test_two_dimensional_lattice_sum_grows_like_the_root_of_its_radius(values):
    # sum_{0 < |x| <= R} |x|^{-3/2} = 4 pi sqrt(R) + C + O(R^{-1/2}) (Euler-Maclaurin in 2D)
    assert abs(values["lattice_sum_amplitude_over_4pi"] - 1) < (
        0.01 + N_SE * values["lattice_sum_amplitude_se_over_4pi"])
    R = 1000
    # the ratio at R is 1 + C / (4 pi sqrt R)
    assert abs(values["lattice_sum_ratio_largest"]
               - (1 + values["lattice_sum_constant"] / (4 * math.pi * math.sqrt(R)))) < 0.01
    assert values["lattice_sum_constant"] < 0


def test_bookkeeping_exponents_of_2_38(values):
    def exponents(a, b, c=Fraction(-1, 2)):
        return (3 * a - 3 - Fraction(3, 2) * b + c * a, -a, b / 2 - 1)

    printed = exponents(Fraction(4, 5), Fraction(2, 5))
    assert printed == (Fraction(-8, 5), Fraction(-4, 5), Fraction(-4, 5))
    assert values["bookkeeping_printed"] == tuple(float(v) for v in printed)
    # the optimum balances all three: -a = b/2 - 1 and (3 + c) a - 3 - 3b/2 = -a give
    # a = 6 / (7 + c), b = 2 - 2a
    c = Fraction(-1, 2)
    a = 6 / (7 + c)
    b = 2 - 2 * a
    assert (a, b) == (Fraction(12, 13), Fraction(2, 13))
    a_lp, b_lp, z_lp = values["bookkeeping_optimum"]
    assert abs(a_lp - float(a)) < 1e-9 and abs(b_lp - float(b)) < 1e-9
    assert abs(z_lp + float(a)) < 1e-9
    # with nu^{+1/2} the printed choice balances all three terms: the sign slip
    slip = exponents(Fraction(4, 5), Fraction(2, 5), c=Fraction(1, 2))
    assert slip[0] == slip[1] == slip[2]
    assert values["bookkeeping_sign_slip"] == tuple(float(v) for v in slip)
    # the power of nu that balances the printed choice: (3 + c) a - 3 - 3b/2 = -a at
    # a = 4/5, b = 2/5, solved for c
    a_pr, b_pr = Fraction(4, 5), Fraction(2, 5)
    needed = (-a_pr + 3 + Fraction(3, 2) * b_pr) / a_pr - 3
    assert exponents(a_pr, b_pr, c=needed)[0] == -a_pr
    assert values["bookkeeping_nu_power_needed"] == float(needed)
    assert 6 / (7 + needed) == a_pr


# --------------------------------------------------------------------------------------
# Exercises
# --------------------------------------------------------------------------------------
def test_exercise_checks(values):
    # (2m-1)!! = 2^m m! / sqrt(pi m) (1 - 1/(8m) + O(1/m^2)): 8m (ratio - 1) -> -1
    # with an O(1/m) correction, at most ~0.1 from m = 10 on
    assert values["dfact_stirling_8m_max_dev"] < 0.1
    assert abs(values["log_fact_over_log_dfact_m40"]
               - math.lgamma(81) / math.log(double_factorial(79))) < 1e-12
    # nu_n(x) = C(2n, n) (x/2)^n / n!: rounding only
    assert values["ladder_closed_form_max_dev"] < 1e-12
    # nu_n <= (2x)^n / (n! sqrt(pi n)) since C(2n, n) <= 4^n / sqrt(pi n)
    assert values["ladder_bound_max_ratio"] <= 1.0
