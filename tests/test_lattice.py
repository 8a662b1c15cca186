"""Tests of chargetransport.lattice: the box, its coordinates and momenta, the dispersion.

References are computed independently in the tests: the symbol of the stencil by an FFT of
its convolution kernel, the gradient by finite differences, the momentum grid from
``numpy.fft.fftfreq``.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import chargetransport as ct

EPS = np.finfo(float).eps

lattices = st.builds(ct.Lattice, d=st.integers(1, 3), L=st.integers(3, 9))


@given(lattices)
@settings(max_examples=30, deadline=None)
def test_lattice_shape_sites_and_origin_follow_d_and_L(lat):
    assert lat.shape == (lat.L,) * lat.d
    assert lat.num_sites == lat.L**lat.d
    assert lat.origin_index == lat.L // 2


@given(lattices)
@settings(max_examples=30, deadline=None)
def test_coordinates_are_centred_with_origin_at_index_L_over_2(lat):
    x = lat.coordinates(sparse=False)
    assert len(x) == lat.d
    n = np.indices(lat.shape)
    for axis in range(lat.d):
        # Exact integers in float64: no tolerance.
        np.testing.assert_array_equal(x[axis], n[axis] - lat.L // 2)
        assert x[axis].dtype == np.float64
    origin = (lat.L // 2,) * lat.d
    assert all(xi[origin] == 0.0 for xi in x)
    # the sparse mesh broadcasts to the full one
    for xs, xf in zip(lat.coordinates(sparse=True), x):
        np.testing.assert_array_equal(np.broadcast_to(xs, lat.shape), xf)


@given(lattices)
@settings(max_examples=30, deadline=None)
def test_momenta_are_the_fft_grid_on_the_unit_torus(lat):
    k_ref = np.fft.fftfreq(lat.L) % 1.0    # numpy's FFT order, folded into [0, 1)
    k = lat.momenta(sparse=False)
    for axis in range(lat.d):
        # m / L computed two ways: identical up to one rounding (m / L vs fold of m / L - 1).
        np.testing.assert_allclose(np.moveaxis(k[axis], axis, 0)[(slice(None),) + (0,) * (lat.d - 1)],
                                   k_ref, rtol=0, atol=2 * EPS)
        assert np.all((k[axis] >= 0.0) & (k[axis] < 1.0))


@pytest.mark.parametrize("d,L", [(1, 3), (1, 8), (2, 5), (2, 6), (3, 3), (3, 4)])
def test_lattice_dispersion_is_the_fft_symbol_of_the_nearest_neighbour_stencil(d, L):
    # The symbol of Delta is the DFT of its convolution kernel: ones at the 2d neighbours of
    # the site with index 0 (periodically), sum_x exp(-2 pi i k.x) over neighbours = e(k).
    lat = ct.Lattice(d, L)
    kernel = np.zeros(lat.shape)
    for axis in range(d):
        for step in (1, -1):
            idx = [0] * d
            idx[axis] = step % L
            kernel[tuple(idx)] += 1.0
    symbol = np.fft.fftn(kernel)
    # 2d terms of modulus 1 plus FFT rounding: ~ d log L eps.
    np.testing.assert_allclose(lat.dispersion(), symbol.real, rtol=0, atol=1e-13)
    np.testing.assert_allclose(symbol.imag, 0.0, atol=1e-13)
    assert lat.dispersion().shape == lat.shape


@pytest.mark.parametrize("d", [1, 2, 3])
def test_dispersion_extremes_are_plus_minus_2d(d):
    assert float(ct.dispersion(np.zeros(d))) == 2.0 * d
    # cos(pi) = -1 exactly in floating point
    assert float(ct.dispersion(np.full(d, 0.5))) == -2.0 * d
    lat = ct.Lattice(d, 6)
    # k = 0 and k = (1/2, ..., 1/2) are on the grid of an even box
    assert lat.dispersion().max() == 2.0 * d
    # the grid point k = 3/6 = 1/2 is exact, but the sum of d cosines may round: few eps
    assert lat.dispersion().min() == pytest.approx(-2.0 * d, abs=1e-14)


@given(k=st.lists(st.floats(-3, 3), min_size=1, max_size=3), shift=st.integers(-3, 3))
@settings(max_examples=40, deadline=None)
def test_dispersion_is_sum_of_2cos_and_one_periodic(k, shift):
    k = np.asarray(k)
    expected = sum(2.0 * np.cos(2.0 * np.pi * ki) for ki in k)
    # d terms of size 2, each with an argument rounding of |2 pi k| eps ~ 20 eps.
    assert float(ct.dispersion(k)) == pytest.approx(expected, abs=100 * EPS)
    # periodicity: shifting by an integer changes the argument by rounding only
    # (|k + shift| <= 6, so cos's argument moves by <= 2 pi * 6 * eps ~ 40 eps per axis).
    assert float(ct.dispersion(k + shift)) == pytest.approx(expected, abs=1e-13)


def test_dispersion_broadcasts_over_leading_axes():
    rng = np.random.default_rng(0)
    k = rng.random((4, 5, 3))
    e = ct.dispersion(k)
    assert e.shape == (4, 5)
    ref = 2 * np.cos(2 * np.pi * k[..., 0]) + 2 * np.cos(2 * np.pi * k[..., 1]) + 2 * np.cos(2 * np.pi * k[..., 2])
    # same operations up to summation order: a few eps of 6
    np.testing.assert_allclose(e, ref, rtol=0, atol=10 * EPS * 6)


@given(k=st.lists(st.floats(-1, 2), min_size=1, max_size=3))
@settings(max_examples=40, deadline=None)
def test_dispersion_gradient_matches_central_differences(k):
    k = np.asarray(k)
    h = 1e-5
    grad = ct.dispersion_gradient(k)
    assert grad.shape == k.shape
    for i in range(k.size):
        dk = np.zeros_like(k)
        dk[i] = h
        fd = (ct.dispersion(k + dk) - ct.dispersion(k - dk)) / (2 * h)
        # central difference: truncation h^2 |e'''| / 6 <= h^2 2 (2 pi)^3 / 6 ~ 1e-8,
        # rounding ~ 2 * 6 eps / (2h) ~ 1e-10.
        assert float(fd) == pytest.approx(grad[i], abs=1e-7)


@pytest.mark.parametrize("d,L", [(1, 7), (2, 4), (3, 5)])
def test_lattice_dispersion_gradient_equals_pointwise_gradient_on_grid(d, L):
    lat = ct.Lattice(d, L)
    grid = np.stack(lat.momenta(sparse=False), axis=-1)        # (L,...,L, d)
    expected = np.moveaxis(ct.dispersion_gradient(grid), -1, 0)
    g = lat.dispersion_gradient()
    assert g.shape == (d,) + lat.shape
    # Both are -4 pi sin(2 pi k) of the same k: identical up to rounding of the broadcast.
    np.testing.assert_allclose(g, expected, rtol=0, atol=1e-13)
    np.testing.assert_allclose(lat.dispersion(), ct.dispersion(grid), rtol=0, atol=1e-13)


def test_lattice_equality_hash_and_repr():
    a, b, c = ct.Lattice(2, 8), ct.Lattice(2, 8), ct.Lattice(3, 8)
    assert a == b and hash(a) == hash(b)
    assert a != c and a != (2, 8)
    assert len({a, b, c}) == 2
    assert repr(a) == "Lattice(d=2, L=8)"


def test_lattice_accepts_numpy_integers():
    lat = ct.Lattice(np.int64(2), np.int32(5))
    assert lat.d == 2 and lat.L == 5 and type(lat.L) is int


# ------------------------------------------------------------------------------------
# twisted boundary conditions: psi(x + L e_i) = exp(2 pi i theta_i) psi(x)
# ------------------------------------------------------------------------------------
def test_twist_defaults_to_zero_and_zero_twist_is_the_periodic_box():
    assert ct.Lattice(2, 5).twist == (0.0, 0.0)
    assert ct.Lattice(2, 5, twist=[0, 0]) == ct.Lattice(2, 5)
    assert ct.Lattice(2, 5, twist=0.0) == ct.Lattice(2, 5)
    assert hash(ct.Lattice(2, 5, twist=(0.0, 0.0))) == hash(ct.Lattice(2, 5))
    assert repr(ct.Lattice(2, 5, twist=[0.0, 0.0])) == "Lattice(d=2, L=5)"
    assert not ct.Lattice(3, 4).is_twisted


def test_twist_enters_equality_hash_and_repr():
    a = ct.Lattice(2, 6, twist=(0.25, 0.0))
    assert a.twist == (0.25, 0.0) and a.is_twisted
    assert a != ct.Lattice(2, 6) and a != ct.Lattice(2, 6, twist=(0.0, 0.25))
    assert a == ct.Lattice(2, 6, twist=np.array([0.25, 0.0]))
    assert len({a, ct.Lattice(2, 6), ct.Lattice(2, 6, twist=(0.25, 0.0))}) == 2
    assert repr(a) == "Lattice(d=2, L=6, twist=(0.25, 0.0))"
    assert ct.Lattice(3, 4, twist=0.5).twist == (0.5, 0.5, 0.5)     # a number: every axis


@pytest.mark.parametrize("twist, match", [
    ([0.1, 0.2, 0.3], "'twist'.*d = 2"),
    ([1.0, 0.0], "'twist'.*\\[0, 1\\)"),
    ([-0.1, 0.0], "'twist'.*\\[0, 1\\)"),
    ([np.nan, 0.0], "'twist'.*finite"),
    ([np.inf, 0.0], "'twist'.*finite"),
])
def test_twist_is_validated(twist, match):
    with pytest.raises(ValueError, match=match):
        ct.Lattice(2, 5, twist=twist)
    with pytest.raises(TypeError, match="'twist'"):
        ct.Lattice(2, 5, twist=[0.1j, 0.0])


@given(d=st.integers(1, 3), L=st.integers(3, 9), data=st.data())
@settings(max_examples=30, deadline=None)
def test_twisted_momenta_dispersion_and_gradient_live_on_the_shifted_grid(d, L, data):
    theta = np.array(data.draw(st.lists(st.floats(0, 0.999), min_size=d, max_size=d)))
    lat = ct.Lattice(d, L, twist=theta)
    k = lat.momenta(sparse=False)
    m = np.indices(lat.shape)
    for axis in range(d):
        # (m + theta) / L: one addition and one division, rounding only
        np.testing.assert_allclose(k[axis], (m[axis] + theta[axis]) / L, rtol=0, atol=2 * EPS)
        assert np.all((k[axis] >= 0) & (k[axis] < 1))
    grid = np.stack(k, axis=-1)
    np.testing.assert_allclose(lat.dispersion(), ct.dispersion(grid), rtol=0, atol=1e-13)
    np.testing.assert_allclose(lat.dispersion_gradient(), np.moveaxis(ct.dispersion_gradient(grid), -1, 0),
                               rtol=0, atol=1e-13)


def test_zero_twist_momenta_are_bit_for_bit_the_periodic_grid():
    for d, L in ((1, 7), (2, 6), (3, 5)):
        m = np.arange(L, dtype=np.float64) / L     # the periodic grid m / L
        for axis, k in enumerate(ct.Lattice(d, L, twist=0.0).momenta(sparse=True)):
            assert k.ravel().tobytes() == m.tobytes()


def test_twist_factor_is_the_gauge_phase_of_centred_coordinates():
    lat = ct.Lattice(2, 5, twist=(0.3, 0.8))
    x = np.indices(lat.shape) - 2
    g = np.exp(2j * np.pi * (0.3 * x[0] + 0.8 * x[1]) / 5)
    np.testing.assert_allclose(lat.twist_factor(), g, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(ct.Lattice(2, 5).twist_factor(), 1.0)
