"""Tests of chargetransport.wigner: the lattice Wigner transform of section 2.2 and its pairing.

Definitions (module docstring of wigner.py), with centred coordinates y, z of the box:

    W(x, v) = 2^d sum_{y + z = 2x} conj(psi(y)) psi(z) exp(2 pi i v.(y - z)),  x in (Z/2)^d,
    <J, W^(eps)> = 2^{-d} sum_x int dv J(eps x, v) W(x, v)
                 = sum_{y, z} conj(psi(y)) psi(z) prod_i g_i(eps (y_i + z_i) / 2) Phi_i(y_i - z_i),

with Phi_i(n) = int_0^1 phi_i(v) exp(2 pi i v n) dv. The references below are written from
these formulas by direct summation over all pairs (y, z) and do not use the package.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import chargetransport as ct


def random_psi(d, L, rng):
    psi = rng.standard_normal((L,) * d) + 1j * rng.standard_normal((L,) * d)
    return psi / np.linalg.norm(psi)


def sites(d, L):
    """Centred coordinates of all sites, shape (L^d, d), in C order."""
    return np.indices((L,) * d).reshape(d, -1).T - L // 2


def gauss(X, X0, w):
    return np.exp(-((X - X0) ** 2) / (2 * w**2))


def periodic_gauss(V, V0, s):
    return sum(np.exp(-((V - V0 + j) ** 2) / (2 * s**2)) for j in range(-4, 5))


def brute_force_W(psi, M):
    """W(x, v) on x = s/2 - L//2 (s = 0..2L-2 per axis) and v = j / M, by the definition."""
    d, L = psi.ndim, psi.shape[0]
    y = sites(d, L)
    v = np.arange(M) / M
    W = np.zeros((2 * L - 1,) * d + (M,) * d, dtype=complex)
    vgrid = np.stack(np.meshgrid(*([v] * d), indexing="ij"), axis=-1)     # (M,)*d + (d,)
    for a, ya in enumerate(y):
        for b, zb in enumerate(y):
            s_index = tuple(ya + zb + 2 * (L // 2))                        # y + z = 2x
            W[s_index] += 2**d * np.conj(psi.flat[a]) * psi.flat[b] * np.exp(2j * np.pi * vgrid @ (ya - zb))
    return W


def brute_force_pairing(psi, g, Phi, eps):
    """sum_{y,z} conj psi(y) psi(z) prod_i g_i(eps (y_i + z_i)/2) Phi_i(y_i - z_i)."""
    d, L = psi.ndim, psi.shape[0]
    y = sites(d, L)
    K = np.ones((len(y), len(y)), dtype=complex)
    for i in range(d):
        Y, Z = y[:, None, i], y[None, :, i]
        K *= g[i](eps * (Y + Z) / 2) * Phi[i](Y - Z)
    flat = psi.ravel()
    return np.conj(flat) @ K @ flat


def midpoint_coefficients(phi, Mv=2048):
    """n -> int_0^1 phi(v) exp(2 pi i v n) dv by the midpoint rule (spectrally accurate)."""
    v = (np.arange(Mv) + 0.5) / Mv
    values = phi(v)
    return lambda n: (values * np.exp(2j * np.pi * np.multiply.outer(n, v))).mean(axis=-1)


# ------------------------------------------------------------------------------------
# the explicit transform
# ------------------------------------------------------------------------------------
@pytest.mark.parametrize("d,L,M", [(1, 3, 5), (1, 6, 12), (1, 7, 4), (2, 3, 5), (2, 4, 8), (3, 3, 5)])
def test_wigner_transform_matches_definition_and_is_real(d, L, M):
    psi = random_psi(d, L, np.random.default_rng(10 * d + L))
    X, V, W = ct.wigner_transform(psi, num_momenta=M)
    ref = brute_force_W(psi, M)
    # W(x, v) = 2^d sum_{y+z=2x} conj psi(y) psi(z) e^{2 pi i v (y - z)} is real: the terms
    # (y, z) and (z, y) are complex conjugates. Sums of <= L^d unit-size terms: ~1e-15.
    np.testing.assert_allclose(ref.imag, 0.0, atol=1e-13)
    assert W.dtype == np.float64 and W.shape == ref.shape
    np.testing.assert_allclose(W, ref.real, rtol=0, atol=1e-13)
    np.testing.assert_allclose(X, np.arange(2 * L - 1) / 2 - L // 2, rtol=0, atol=0)
    np.testing.assert_allclose(V, np.arange(M) / M, rtol=0, atol=0)


@pytest.mark.parametrize("d,L", [(1, 9), (1, 10), (2, 5), (2, 6)])
def test_wigner_transform_marginals_and_mass(d, L):
    psi = random_psi(d, L, np.random.default_rng(L))
    X, V, W = ct.wigner_transform(psi)           # default M = 2L >= 2L - 1: no aliasing
    M = len(V)
    assert M == 2 * L
    pos = W.mean(axis=tuple(range(d, 2 * d))) / 2**d          # 2^-d int dv W(x, v)
    integer = np.zeros((2 * L - 1,) * d, bool)
    integer[(slice(None, None, 2),) * d] = True               # s even <=> x integer
    # position marginal |psi(x)|^2 on integer x, 0 if any coordinate is half-integer;
    # rounding of M^d-term averages ~1e-15
    np.testing.assert_allclose(pos[integer].reshape(psi.shape), np.abs(psi) ** 2, rtol=0, atol=1e-13)
    np.testing.assert_allclose(pos[~integer], 0.0, atol=1e-13)
    # momentum marginal 2^-d sum_x W(x, v) = |psi_hat(v)|^2, psi_hat(v) = sum_x e^{-2 pi i v.x} psi(x)
    mom = W.sum(axis=tuple(range(d))) / 2**d
    x = sites(d, L)
    vgrid = np.stack(np.meshgrid(*([V] * d), indexing="ij"), axis=-1).reshape(-1, d)
    psi_hat = np.exp(-2j * np.pi * vgrid @ x.T) @ psi.ravel()
    # direct sums of L^d terms vs the FFT route: rounding ~ L^d eps |psi_hat|^2 << 1e-12
    np.testing.assert_allclose(mom.ravel(), np.abs(psi_hat) ** 2, rtol=0, atol=1e-12)
    # total mass 2^-d sum_x M^-d sum_v W = ||psi||^2 = 1
    assert W.sum() / (2 * M) ** d == pytest.approx(1.0, abs=1e-13)


def test_rescaled_wigner_transform_scales_positions_and_density():
    psi = random_psi(2, 5, np.random.default_rng(1))
    X1, V1, W1 = ct.wigner_transform(psi)
    eps = 0.3
    Xe, Ve, We = ct.wigner_transform(psi, scale=eps)
    # W^(eps)(X, V) = eps^-d W(X / eps, V) on X = eps x: one multiplication each, ~eps rounding
    np.testing.assert_allclose(Xe, eps * X1, rtol=1e-15)
    np.testing.assert_array_equal(Ve, V1)
    np.testing.assert_allclose(We, W1 / eps**2, rtol=1e-14, atol=1e-14)
    # mass with the rescaled measure (eps / 2)^d sum_X int dV
    assert (eps / 2) ** 2 * We.mean(axis=(2, 3)).sum() == pytest.approx(1.0, abs=1e-13)


# ------------------------------------------------------------------------------------
# the pairing
# ------------------------------------------------------------------------------------
coordinate = st.floats(-2.0, 2.0)


@given(d=st.integers(1, 2), data=st.data())
@settings(max_examples=30, deadline=None)
def test_wigner_pairing_matches_brute_force_double_sum_for_gaussian_test_functions(d, data):
    L = data.draw(st.integers(3, 8 if d == 1 else 6))
    eps = data.draw(st.sampled_from([1.0, 0.5, 0.07, 2.3]))
    X0 = data.draw(st.lists(coordinate, min_size=d, max_size=d))
    V0 = data.draw(st.lists(st.floats(0.0, 1.0), min_size=d, max_size=d))
    w = data.draw(st.floats(0.3, 3.0))
    s = data.draw(st.floats(0.03, 0.25))
    psi = random_psi(d, L, np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))))
    J = ct.gaussian_test_function(X0, V0, width=w, momentum_width=s)
    g = [lambda X, c=c: gauss(X, c, w) for c in X0]
    Phi = [midpoint_coefficients(lambda v, c=c: periodic_gauss(v, c, s)) for c in V0]
    ref = brute_force_pairing(psi, g, Phi, eps)
    # |terms| <= |psi(y) psi(z)| * s sqrt(2 pi); sums of L^{2d} <= 1296 such terms and the
    # midpoint rule of 2048 nodes (aliasing ~exp(-2 pi^2 s^2 2048^2), negligible): ~1e-14
    assert ct.wigner_pairing(psi, J, scale=eps) == pytest.approx(complex(ref), abs=1e-12)


@pytest.mark.parametrize("eps", [1.0, 0.25])
def test_wigner_pairing_matches_brute_force_in_3d(eps):
    psi = random_psi(3, 4, np.random.default_rng(3))
    X0, V0, w, s = [0.5, -1.0, 0.2], [0.1, 0.6, 0.9], 1.5, 0.1
    J = ct.gaussian_test_function(X0, V0, width=w, momentum_width=s)
    g = [lambda X, c=c: gauss(X, c, w) for c in X0]
    Phi = [midpoint_coefficients(lambda v, c=c: periodic_gauss(v, c, s)) for c in V0]
    ref = brute_force_pairing(psi, g, Phi, eps)
    assert ct.wigner_pairing(psi, J, scale=eps) == pytest.approx(complex(ref), abs=1e-12)  # as above


@pytest.mark.parametrize("d,L,eps", [(1, 7, 1.0), (1, 8, 0.4), (2, 5, 1.0), (2, 4, 0.3)])
def test_wigner_pairing_equals_explicit_transform_paired_by_direct_summation(d, L, eps):
    # momentum factor 1 + cos(2 pi v): J W is a trigonometric polynomial of degree <= L in v,
    # so the M-point sum M^-d sum_v is the exact integral for M > L. Position factors are
    # arbitrary (evaluated pointwise on X = eps x). Generic callables: coefficients by FFT.
    psi = random_psi(d, L, np.random.default_rng(7 * L + d))
    centres = [0.4, -0.7][:d]
    gs = [lambda X, c=c: np.exp(-((X - c) ** 2) / 3.0) * (1 + 0.2 * X) for c in centres]
    phis = [lambda v: 1.0 + np.cos(2 * np.pi * v), lambda v: 2.0 - np.sin(2 * np.pi * v) + 0.5 * np.cos(4 * np.pi * v)][:d]
    J = ct.SeparableTestFunction(gs, phis)
    M = 2 * L + 3
    X, V, W = ct.wigner_transform(psi, num_momenta=M, scale=eps)
    weight = np.ones(W.shape)
    for i in range(d):
        shape = [1] * (2 * d)
        shape[i] = len(X)
        weight = weight * gs[i](X).reshape(shape)
        shape = [1] * (2 * d)
        shape[d + i] = M
        weight = weight * phis[i](V).reshape(shape)
    # <J, W^eps> = (eps/2)^d sum_X M^-d sum_V J(X, V) W^eps(X, V)
    direct = (eps / 2) ** d * np.sum(weight * W) / M**d
    # sums of ~(2L M)^d terms of size <= 3^d: rounding ~1e-13; FFT coefficients to ~1e-16
    assert ct.wigner_pairing(psi, J, scale=eps) == pytest.approx(direct, abs=1e-12)


def test_wigner_pairing_with_position_only_test_function_weights_the_density():
    # Phi(n) = delta_{n0}: only y = z survives, <J, W^eps> = sum_x g(eps x) |psi(x)|^2
    psi = random_psi(2, 7, np.random.default_rng(5))
    eps = 0.6
    J = ct.gaussian_test_function([0.3, -0.2], width=0.8)
    x = sites(2, 7)
    g = gauss(eps * x[:, 0], 0.3, 0.8) * gauss(eps * x[:, 1], -0.2, 0.8)
    # 49 positive terms of a unit-norm state: rounding ~1e-16
    assert ct.wigner_pairing(psi, J, scale=eps) == pytest.approx(np.sum(g * np.abs(psi.ravel()) ** 2), abs=1e-14)
    # constant test function: the mass ||psi||^2
    one = ct.SeparableTestFunction([None, None], [None, None])
    assert ct.wigner_pairing(psi, one) == pytest.approx(1.0, abs=1e-14)


def test_generic_callable_momentum_factor_agrees_with_closed_form_gaussian():
    rng = np.random.default_rng(11)
    for d, L in ((1, 16), (2, 9)):
        psi = random_psi(d, L, rng)
        X0, V0, w, s = [0.5, -0.3][:d], [0.2, 0.85][:d], 1.7, 0.06
        closed = ct.gaussian_test_function(X0, V0, width=w, momentum_width=s)
        generic = ct.SeparableTestFunction([lambda X, c=c: gauss(X, c, w) for c in X0],
                                           [lambda v, c=c: periodic_gauss(v, c, s) for c in V0])
        for eps in (1.0, 0.2):
            # FFT of 2^14 midpoint samples of a smooth periodic function: coefficient error at
            # rounding level (~1e-17); pairings agree to rounding of the axis sums (~1e-15)
            assert ct.wigner_pairing(psi, generic, scale=eps) == pytest.approx(
                ct.wigner_pairing(psi, closed, scale=eps), abs=1e-13)


@given(seed=st.integers(0, 2**32 - 1), eps=st.floats(0.05, 2.0))
@settings(max_examples=20, deadline=None)
def test_wigner_pairing_of_a_real_test_function_is_real_and_linear(seed, eps):
    rng = np.random.default_rng(seed)
    psi = random_psi(2, 6, rng)
    J1 = ct.gaussian_test_function([0.1, 0.2], [0.3, 0.4], width=1.0, momentum_width=0.1)
    J2 = ct.SeparableTestFunction([lambda X: 2.0 * gauss(X, 0.1, 1.0), lambda X: gauss(X, 0.2, 1.0)],
                                  J1.momentum_factors, J1.momentum_coefficients)
    p1 = ct.wigner_pairing(psi, J1, scale=eps)
    # W is real, so a real J gives a real pairing (up to rounding of complex sums)
    assert abs(p1.imag) < 1e-13
    # linear in J: doubling one position factor doubles the pairing
    assert ct.wigner_pairing(psi, J2, scale=eps) == pytest.approx(2 * p1, abs=1e-13)


def test_gaussian_test_function_values_peak_at_one():
    J = ct.gaussian_test_function([0.5, -1.0], [0.25, 0.75], width=2.0, momentum_width=0.05)
    assert J([0.5, -1.0], [0.25, 0.75]) == pytest.approx(1.0, abs=1e-15)   # images: e^-200
    # periodic in V, Gaussian in X
    assert J([0.5, -1.0], [1.25, -0.25]) == pytest.approx(1.0, abs=1e-12)
    assert J([2.5, -1.0], [0.25, 0.75]) == pytest.approx(np.exp(-0.5), rel=1e-14)
    position_only = ct.gaussian_test_function([0.0], width=1.0)
    assert position_only([0.0], [0.37]) == 1.0      # exp(0) * (no momentum factor): exact


def test_gaussian_test_function_closed_form_coefficients_match_quadrature():
    J = ct.gaussian_test_function([0.0], [0.3], width=1.0, momentum_width=0.07)
    n = np.arange(-20, 21)
    ref = midpoint_coefficients(lambda v: periodic_gauss(v, 0.3, 0.07))(n)
    # midpoint rule with 2048 nodes on a smooth periodic function: rounding-level accurate
    np.testing.assert_allclose(J.momentum_coefficients[0](n), ref, rtol=0, atol=1e-14)


def test_wigner_pairing_with_an_identically_zero_momentum_factor_is_zero():
    psi = random_psi(1, 5, np.random.default_rng(0))
    J = ct.SeparableTestFunction([None], [lambda v: 0.0 * v])
    assert ct.wigner_pairing(psi, J) == 0.0


def test_wigner_momentum_marginal_at_a_twisted_grid_is_the_twisted_momentum_distribution():
    # W does not use the boundary condition; its momentum marginal 2^-d sum_x W(x, v) is
    # |psi_hat(v)|^2 at every v. With M = 2L samples the odd j give v = (m + 1/2) / L: the grid
    # of the antiperiodic box (theta = 1/2), where momentum_distribution must agree.
    for d, L in ((1, 9), (2, 6)):
        psi = random_psi(d, L, np.random.default_rng(L))
        X, V, W = ct.wigner_transform(psi, num_momenta=2 * L)
        marginal = W.sum(axis=tuple(range(d))) / 2**d
        odd = (slice(1, None, 2),) * d
        twisted = ct.momentum_distribution(psi, ct.Lattice(d, L, twist=[0.5] * d))
        # sums of ~(2L)^d unit-size terms: rounding ~1e-14
        np.testing.assert_allclose(marginal[odd], twisted, rtol=0, atol=1e-12)
        # and the even j are the periodic grid
        even = (slice(0, None, 2),) * d
        np.testing.assert_allclose(marginal[even], ct.momentum_distribution(psi), rtol=0, atol=1e-12)


@pytest.mark.parametrize("center, width", [(0.25, 0.05), (0.9, 0.2), (0.1, 0.3), (0.5, 0.01)])
def test_periodic_gaussian_factor_is_the_seven_image_sum(center, width):
    """The compiled momentum factor (what the kinetic Monte Carlo evaluates millions of
    times) is the sum over the images j = -3..3, in that order, of the Gaussian: equal to
    NumPy's evaluation of the same formula to rounding, and shape for shape (scalars
    included). Images whose exponent is below -746 are skipped, which changes nothing:
    their exp is exactly 0."""
    from chargetransport.wigner import _PeriodicGaussian

    factor = _PeriodicGaussian(center, width)
    rng = np.random.default_rng(5)
    for V in (rng.random(10_000), rng.random((30, 7)) * 3 - 1, np.float64(0.3), 0.7):
        j = np.arange(-3, 4).reshape((-1,) + (1,) * np.ndim(V))
        expected = np.exp(-((np.asarray(V) - center + j) ** 2) / (2.0 * width**2)).sum(axis=0)
        got = factor(V)
        assert np.shape(got) == np.shape(expected)
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)
    # at the centre: the peak 1 plus the tails of the six images
    images = np.exp(-np.arange(1, 4) ** 2 / (2.0 * width**2))
    assert float(factor(center)) == pytest.approx(1.0 + 2.0 * images.sum(), rel=1e-15)
