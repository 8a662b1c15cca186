"""The lattice Wigner transform of section 2.2 and its pairing with test functions.

For a state ``psi`` on Z^d (supported in the box; positions are the centred
coordinates of :class:`Lattice`), the paper's Wigner transform is

    W(x, v) = 2^d sum_{y + z = 2x} conj(psi(y)) psi(z) exp(2 pi i v.(y - z)),

with ``x`` on the half-integer lattice ``(Z/2)^d`` and ``v`` on the torus. With
the measure ``2^{-d} sum_x int dv`` it has total mass ``||psi||^2``, position
marginal ``|psi(x)|^2`` and momentum marginal ``|psi_hat(v)|^2``. The rescaled
transform of the kinetic scaling is ``W^(eps)(X, V) = eps^{-d} W(X / eps, V)``
on ``X in eps (Z/2)^d`` (the paper takes ``eps = eta^2``), paired with
test functions as

    <J, W^(eps)> = 2^{-d} sum_x int dv J(eps x, v) W(x, v).

Boundary conditions. Both functions treat ``psi`` as a state on Z^d supported
in the box; neither uses the boundary condition of the box, so a state that
fits in the box (see :func:`boundary_weight`) has the same transform on a
periodic and on a twisted box. ``W(x, v)`` is defined for every ``v`` on the
torus, and its momentum marginal at the points ``(m + theta) / L`` of a
twisted grid is the momentum distribution of the twisted box
(:func:`momentum_distribution` with ``lattice=``).
"""
from __future__ import annotations

import numba as nb
import numpy as np

from . import _kernels
from .hamiltonian import as_3d
from ._validation import (check_finite_field, check_instance, check_int, check_memory,
                          check_real, check_real_array)

__all__ = ["SeparableTestFunction", "gaussian_test_function", "wigner_pairing",
           "wigner_transform"]

# Samples of a momentum factor used to get its Fourier coefficients by FFT
# (the midpoint rule is spectrally accurate for smooth periodic functions).
_MOMENTUM_SAMPLES = 1 << 14
# Fourier coefficients smaller than this (relative to the largest) are dropped:
# they contribute below double-precision rounding.
_COEFFICIENT_CUTOFF = 1e-17


def _state(psi):
    """psi as a complex128 array of finite numbers, or an error naming 'psi'."""
    psi = np.asarray(psi)
    if psi.dtype != np.complex128:
        raise TypeError(f"'psi' must have dtype complex128, got {psi.dtype}")
    return check_finite_field("psi", psi)


def _factor_values(f, x, name):
    """Values of a vectorised factor on the array x (scalars are broadcast)."""
    values = np.asarray(f(x))
    if values.ndim == 0:
        values = np.full(x.shape, values[()])
    if values.shape != x.shape:
        raise ValueError(f"the {name} must return an array of the shape of its argument "
                         f"{x.shape} (or a scalar), got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"the {name} returned non-finite values")
    return values.astype(np.complex128)


class SeparableTestFunction:
    """A phase-space test function ``J(X, V) = prod_i g_i(X_i) phi_i(V_i)``.

    Parameters
    ----------
    position_factors : sequence of d callables or None
        ``g_i(X_i)``, vectorised real or complex functions of the macroscopic
        position; ``None`` stands for the constant 1.
    momentum_factors : sequence of d callables or None
        ``phi_i(V_i)``, vectorised 1-periodic functions on the torus; ``None``
        stands for 1.
    momentum_coefficients : sequence of d callables, optional
        ``n -> int_0^1 phi_i(v) exp(2 pi i v n) dv`` in closed form; if
        omitted they are computed by FFT from samples of ``phi_i``.

    Sums of separable functions (any smooth ``J``, to any accuracy) are
    paired term by term, since the pairing is linear in ``J``.

    Examples
    --------
    ``J(X, V) = cos(2 pi V)`` measures ``<cos(2 pi k)>``; for a Gaussian packet of
    momentum ``p`` and momentum spread ``s = 1 / (4 pi w)`` it is
    ``cos(2 pi p) exp(-2 pi^2 s^2)``:

    >>> import numpy as np, chargetransport as ct
    >>> J = SeparableTestFunction([None], [lambda v: np.cos(2 * np.pi * v)])
    >>> psi = ct.gaussian_wave_packet(ct.Lattice(d=1, L=64), center=0, width=2.0, momentum=0.1)
    >>> s = 1 / (8 * np.pi)
    >>> bool(abs(wigner_pairing(psi, J) - np.cos(0.2 * np.pi) * np.exp(-2 * np.pi**2 * s**2)) < 1e-12)
    True
    """

    def __init__(self, position_factors, momentum_factors, momentum_coefficients=None):
        position_factors = list(position_factors)
        momentum_factors = list(momentum_factors)
        if len(position_factors) != len(momentum_factors) or not 1 <= len(position_factors) <= 3:
            raise ValueError("'position_factors' and 'momentum_factors' must both have d entries, "
                             f"d in 1..3; got {len(position_factors)} and {len(momentum_factors)}")
        for name, fs in (("position_factors", position_factors), ("momentum_factors", momentum_factors)):
            for f in fs:
                if f is not None and not callable(f):
                    raise TypeError(f"entries of '{name}' must be callables or None")
        if momentum_coefficients is not None:
            momentum_coefficients = list(momentum_coefficients)
            if len(momentum_coefficients) != len(momentum_factors):
                raise ValueError("'momentum_coefficients' must have d entries")
        self.position_factors = position_factors
        self.momentum_factors = momentum_factors
        self.momentum_coefficients = momentum_coefficients
        self.d = len(position_factors)

    def __call__(self, X, V):
        """Evaluate ``J`` at positions ``X`` and momenta ``V`` (arrays of shape (..., d))."""
        X = np.asarray(X, dtype=float)
        V = np.asarray(V, dtype=float)
        out = np.ones(np.broadcast_shapes(X.shape[:-1], V.shape[:-1]), dtype=complex)
        for i in range(self.d):
            g, phi = self.position_factors[i], self.momentum_factors[i]
            if g is not None:
                out = out * g(X[..., i])
            if phi is not None:
                out = out * phi(V[..., i])
        return out.real if np.all(out.imag == 0) else out

    def _fourier_coefficients(self, axis, n_max):
        """Phi(n) = int_0^1 phi(v) exp(2 pi i v n) dv for n = -n_max..n_max."""
        n = np.arange(-n_max, n_max + 1)
        phi = self.momentum_factors[axis]
        if phi is None:
            return (n == 0).astype(np.complex128)
        if self.momentum_coefficients is not None and self.momentum_coefficients[axis] is not None:
            return np.asarray(self.momentum_coefficients[axis](n), dtype=np.complex128)
        m = max(_MOMENTUM_SAMPLES, 4 * n_max + 4)
        v = (np.arange(m) + 0.5) / m
        # ifft computes (1/m) sum_j f_j exp(+2 pi i j n / m); the half-sample
        # shift of the midpoint grid adds the phase exp(i pi n / m).
        coef = np.fft.ifft(_factor_values(phi, v, f"momentum factor {axis}"))
        return coef[n % m] * np.exp(1j * np.pi * n / m)


def gaussian_test_function(center, momentum=None, width=1.0, momentum_width=0.05):
    """Gaussian test function ``J(X, V) = exp(-|X - X0|^2 / (2 w^2)) phi(V)``.

    ``phi`` is the periodised Gaussian ``sum_{j in Z^d} exp(-|V - V0 + j|^2 / (2 s^2))``
    on the torus; both factors have peak value 1. With ``momentum=None``,
    ``phi = 1``: a test function of the position only.

    Parameters
    ----------
    center : sequence of d floats
        ``X0``, macroscopic position.
    momentum : sequence of d floats or None
        ``V0`` on the torus; None for no momentum dependence.
    width : float, default 1
        ``w > 0``, macroscopic width.
    momentum_width : float, default 0.05
        ``s > 0``, momentum width (``s <~ 0.25`` keeps the periodic images apart).

    Returns
    -------
    SeparableTestFunction
        With closed-form momentum Fourier coefficients
        ``s sqrt(2 pi) exp(2 pi i V0 n - 2 pi^2 s^2 n^2)``.

    Examples
    --------
    >>> J = gaussian_test_function([0.0], [0.1], width=1.0, momentum_width=0.05)
    >>> float(J([0.0], [0.1])), bool(J([0.0], [0.6]) < 1e-20)
    (1.0, True)
    """
    X0 = np.atleast_1d(check_real_array("center", center))
    position_only = momentum is None
    V0 = np.zeros_like(X0) if position_only else np.atleast_1d(check_real_array("momentum", momentum))
    if X0.shape != V0.shape or X0.ndim != 1 or not 1 <= X0.size <= 3:
        raise ValueError(f"'center' and 'momentum' must have the same length d in 1..3, "
                         f"got {X0.shape} and {V0.shape}")
    w = check_real("width", width, minimum=0.0, strict_minimum=True)
    s = check_real("momentum_width", momentum_width, minimum=0.0, strict_minimum=True)
    if position_only:
        return SeparableTestFunction([_Gaussian(x, w) for x in X0], [None] * len(X0))
    return SeparableTestFunction([_Gaussian(x, w) for x in X0],
                                 [_PeriodicGaussian(v, s) for v in V0],
                                 [_PeriodicGaussianCoefficients(v, s) for v in V0])


# Factors are small classes rather than closures so that test functions can be
# pickled and sent to worker processes (see chargetransport.ensemble).
class _Gaussian:
    def __init__(self, center, width):
        self.center, self.width = float(center), float(width)

    def __call__(self, X):
        return np.exp(-((X - self.center) ** 2) / (2.0 * self.width**2))


class _PeriodicGaussian:
    def __init__(self, center, width):
        self.center, self.width = float(center), float(width)

    def __call__(self, V):
        V = np.asarray(V, dtype=float)
        out = np.empty(V.shape)
        _periodic_gaussian(np.ascontiguousarray(V).reshape(-1), self.center, self.width,
                           out.reshape(-1))
        return out if out.ndim else out[()]


@nb.njit(cache=True)
def _periodic_gaussian(V, center, width, out):
    """out = sum_{j=-3..3} exp(-(V - center + j)^2 / (2 width^2)), images in increasing j.

    The kinetic Monte Carlo evaluates test functions at millions of points: NumPy's
    version of this sum built seven temporary arrays and, on hosts without AVX-512,
    called libm's exp seven times per point. Here an image whose exponent is below
    -746 is skipped: its exp is exactly 0, so the sum keeps every bit (on hosts where
    NumPy's exp is libm's; on AVX-512 hosts NumPy has its own, equal to rounding).
    """
    denominator = 2.0 * width**2
    negligible = 746.0 * denominator      # (V - center + j)^2 beyond it: exp(...) == 0
    for i in range(V.size):
        shifted = V[i] - center
        acc = 0.0
        for j in range(-3, 4):
            square = (shifted + j) ** 2
            if square < negligible:
                acc += np.exp(-square / denominator)
        out[i] = acc


class _PeriodicGaussianCoefficients:
    def __init__(self, center, width):
        self.center, self.width = float(center), float(width)

    def __call__(self, n):
        s = self.width
        return s * np.sqrt(2.0 * np.pi) * np.exp(2j * np.pi * self.center * n
                                                 - 2.0 * np.pi**2 * s**2 * n**2)


@nb.njit(cache=True, parallel=True)
def _axis_kernel(a, G, Phi, n_max, out):
    """out[p, y, q] = sum_{|n|<=n_max} G[2y - n] Phi[n + n_max] a[p, y - n, q] (z = y - n in box).

    Each output is summed in increasing n from 0, so the result does not depend on the
    threads. Rows (p, y) are shared among threads (the first axis of a 2D box has
    pre = 1); the last axis (post = 1) sums in a register instead of in ``out``.
    """
    pre, L, post = a.shape
    for row in nb.prange(pre * L):
        p, y = row // L, row % L
        if post == 1:
            acc = 0j
            for n in range(max(-n_max, y - L + 1), min(n_max, y) + 1):
                z = y - n
                coef = G[y + z] * Phi[n + n_max]
                acc += coef * a[p, z, 0]
            out[p, y, 0] = acc
            continue
        for q in range(post):
            out[p, y, q] = 0.0
        for n in range(max(-n_max, y - L + 1), min(n_max, y) + 1):
            z = y - n
            coef = G[y + z] * Phi[n + n_max]
            for q in range(post):
                out[p, y, q] += coef * a[p, z, q]


def wigner_pairing(psi, test_function, scale=1.0):
    """``<J, W^(scale)>``: the pairing of a test function with the rescaled Wigner transform.

    Parameters
    ----------
    psi : numpy.ndarray of complex128, shape ``(L,) * d``
        The state, on the box with centred coordinates (origin at index L // 2).
        It is treated as a state on Z^d supported in the box, so it must not
        wrap around (see :func:`boundary_weight`).
    test_function : SeparableTestFunction
        ``J(X, V) = prod_i g_i(X_i) phi_i(V_i)``.
    scale : float, default 1
        ``eps > 0`` of the kinetic scaling ``X = eps x`` (``eta^2`` in Theorem 2.1).

    Returns
    -------
    complex
        ``2^{-d} sum_{x in (Z/2)^d} int dv J(eps x, v) W(x, v)``; real when
        ``J`` is real.

    Notes
    -----
    W is never formed. The pairing equals
    ``sum_{y,z} conj(psi(y)) psi(z) prod_i g_i(eps (y_i + z_i)/2) Phi_i(y_i - z_i)``
    with ``Phi_i(n) = int phi_i(v) exp(2 pi i v n) dv`` the Fourier coefficients
    of the momentum factor. The kernel is a tensor product over axes, so it is
    applied axis by axis: ``O(d L^d n_max)`` operations, where ``n_max`` is the
    range of ``Phi`` (about ``1.2 / s`` for a Gaussian of momentum width ``s``,
    0 for a function of position only).

    Examples
    --------
    A test function of position only, constant on the packet, pairs to its mass:

    >>> import chargetransport as ct
    >>> psi = ct.gaussian_wave_packet(ct.Lattice(d=1, L=32), center=0, width=2.0, momentum=0.25)
    >>> round(abs(wigner_pairing(psi, ct.gaussian_test_function([0.0], width=1e6))), 9)
    1.0
    """
    psi = _state(psi)
    check_instance("test_function", test_function, SeparableTestFunction)
    d = psi.ndim
    if d != test_function.d or len(set(psi.shape)) != 1:
        raise ValueError(f"'psi' must be a field on a d = {test_function.d} box (shape (L,)*d), "
                         f"got shape {psi.shape}")
    eps = check_real("scale", scale, minimum=0.0, strict_minimum=True)
    L = psi.shape[0]
    origin = L // 2
    s = np.arange(2 * L - 1)
    result = np.ascontiguousarray(psi)
    for axis in range(d):
        g = test_function.position_factors[axis]
        X = eps * (s / 2.0 - origin)
        G = np.ones(2 * L - 1, dtype=np.complex128)
        if g is not None:
            G = _factor_values(g, X, f"position factor {axis}")
        Phi = test_function._fourier_coefficients(axis, L - 1)
        if not np.any(Phi):
            return 0j          # a factor that vanishes identically: J = 0
        significant = np.nonzero(np.abs(Phi) > _COEFFICIENT_CUTOFF * np.abs(Phi).max())[0]
        n_max = int(max(abs(significant[0] - (L - 1)), abs(significant[-1] - (L - 1))))
        Phi = np.ascontiguousarray(Phi[L - 1 - n_max: L + n_max])
        a3 = result.reshape(L**axis, L, L ** (d - axis - 1))
        out = np.empty_like(a3)
        _axis_kernel(a3, np.ascontiguousarray(G), Phi, n_max, out)
        result = out.reshape(psi.shape)
    # a fixed-block reduction, not BLAS: np.vdot's sum depends on the BLAS thread count
    # (Dask workers run one BLAS thread, a process pool several), which would break the
    # bit-for-bit equality of ensembles across executors
    return _kernels.vdot(as_3d(psi), as_3d(np.ascontiguousarray(result)))


def wigner_transform(psi, num_momenta=None, scale=1.0):
    """The (rescaled) lattice Wigner transform, formed explicitly (small lattices).

    Parameters
    ----------
    psi : numpy.ndarray of complex128, shape ``(L,) * d``
    num_momenta : int, optional
        ``M``: momenta ``v = j / M`` per axis (default ``2L``; ``M >= 2L - 1``
        makes the position marginal exact).
    scale : float, default 1
        ``eps``: return ``W^(eps)(X, V) = eps^{-d} W(X / eps, V)``.

    Returns
    -------
    X : numpy.ndarray, shape (2L - 1,)
        Positions ``eps x`` per axis, ``x`` on the half-integer lattice.
    V : numpy.ndarray, shape (M,)
        Momenta per axis.
    W : numpy.ndarray of float64, shape ``(2L - 1,) * d + (M,) * d``
        Real by construction (``W`` of a state is real).

    Notes
    -----
    Costs ``O(L^{2d} + (L M)^d log M)``; meant for pictures and checks in d = 1, 2.
    For pairings with test functions use :func:`wigner_pairing`.

    Examples
    --------
    Total mass ``2^{-d} sum_x M^{-d} sum_v W = ||psi||^2``, momentum marginal
    peaked at the packet's momentum:

    >>> import chargetransport as ct
    >>> psi = ct.gaussian_wave_packet(ct.Lattice(d=1, L=16), center=0, width=1.5, momentum=0.25)
    >>> X, V, W = wigner_transform(psi)
    >>> W.shape, round(float(W.sum()) / 2 / len(V), 12), float(V[W.sum(axis=0).argmax()])
    ((31, 32), 1.0, 0.25)
    """
    psi = _state(psi)
    d = psi.ndim
    if not 1 <= d <= 3 or len(set(psi.shape)) != 1:
        raise ValueError(f"'psi' must be a field on a box (shape (L,)*d, d in 1..3), got {psi.shape}")
    L = psi.shape[0]
    M = 2 * L if num_momenta is None else check_int("num_momenta", num_momenta, minimum=1)
    eps = check_real("scale", scale, minimum=0.0, strict_minimum=True)
    # the transform, its FFT and the temporaries of the scatter-add: about four arrays
    check_memory("num_momenta" if num_momenta is not None else "psi",
                 4 * 16 * ((2 * L - 1) * max(M, 2 * L - 1)) ** d,
                 f"the explicit Wigner transform of a {psi.shape} state with num_momenta = {M}",
                 "use wigner_pairing or a smaller box")
    # C[s, n mod M] = sum over y + z = s, y - z = n of conj(psi(y)) psi(z), per axis.
    C = np.zeros((2 * L - 1,) * d + (M,) * d, dtype=np.complex128)
    idx = np.indices(psi.shape).reshape(d, -1)
    flat = psi.ravel()
    ys = idx[:, :, None]
    zs = idx[:, None, :]
    prod = np.conj(flat)[:, None] * flat[None, :]
    index = tuple((ys + zs).reshape(d, -1)) + tuple(((ys - zs) % M).reshape(d, -1))
    np.add.at(C, index, prod.ravel())
    axes = tuple(range(d, 2 * d))
    W = (2.0**d) * (M**d) * np.fft.ifftn(C, axes=axes)   # sum_n C e^{+2 pi i j n / M}
    x = np.arange(2 * L - 1) / 2.0 - L // 2
    return eps * x, np.arange(M) / M, W.real / eps**d
