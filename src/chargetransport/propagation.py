"""Time evolution ``exp(-i t H) psi``: Chebyshev expansion, and exact free flow."""
from __future__ import annotations

import numpy as np
from scipy import special
from tqdm import tqdm

from . import _kernels
from ._validation import check_field, check_real, check_real_array
from .hamiltonian import AndersonHamiltonian, as_3d
from .lattice import Lattice

__all__ = ["evolve", "trajectory", "free_evolution", "chebyshev_num_terms"]

# Relative margin added to the Gershgorin half-width so that rounding can never
# push the rescaled spectrum outside [-1, 1], where T_n grows exponentially.
_SPECTRAL_MARGIN = 1e-6


def _chebyshev_coefficients(tau, tol):
    """Coefficients c_n of exp(-i tau x) = sum_n c_n T_n(x) on [-1, 1], truncated.

    c_0 = J_0(tau), c_n = 2 (-i)^n J_n(tau). Truncate at the smallest N with
    sum_{n > N} |c_n| <= tol: that sum bounds the operator-norm error.
    """
    z = abs(tau)
    # J_n(z) decays super-exponentially for n > z; this range always covers
    # the tail far below 1e-16.
    n_max = int(z + 12.0 * max(z, 1.0) ** (1.0 / 3.0) + 60)
    n = np.arange(n_max + 1)
    jn = special.jv(n, tau)
    mags = 2.0 * np.abs(jn)
    mags[0] /= 2.0
    tail = np.cumsum(mags[::-1])[::-1]  # tail[m] = sum_{n >= m} |c_n|
    below = np.nonzero(tail <= tol)[0]
    num = int(below[0]) if below.size else n_max + 1
    num = max(num, 1)
    c = 2.0 * (-1j) ** n[:num] * jn[:num]
    c[0] = jn[0]
    return c


def chebyshev_num_terms(hamiltonian, t, tol=1e-12):
    """Number of terms of the Chebyshev series :func:`evolve` uses for one time step ``t``.

    Every term after the zeroth (``psi0`` itself) costs one stencil sweep. The count
    grows like ``a |t|`` (``a`` the spectral half-width, about ``2d + eta max|V|``)
    plus a correction of order ``(a |t|)^{1/3} log(1/tol)``.
    """
    if not isinstance(hamiltonian, AndersonHamiltonian):
        raise TypeError("'hamiltonian' must be a chargetransport.AndersonHamiltonian, "
                        f"got {type(hamiltonian).__name__}")
    tol = check_real("tol", tol, minimum=1e-14, maximum=0.1)
    a, _ = _rescaling(hamiltonian)
    return len(_chebyshev_coefficients(a * check_real("t", t), tol))


def _rescaling(H):
    e_min, e_max = H.spectral_bounds()
    half_width = 0.5 * (e_max - e_min) * (1.0 + _SPECTRAL_MARGIN)
    return half_width, 0.5 * (e_max + e_min)


def _chebyshev_step(H, psi, t, tol):
    """One Chebyshev expansion of exp(-i t H) psi, error <= tol ||psi||."""
    a, b = _rescaling(H)
    c = _chebyshev_coefficients(a * t, tol)
    V, eta = H._potential_3d, H.eta
    r_prev = as_3d(psi).copy()          # T_0 psi
    acc = c[0] * r_prev
    if len(c) == 1:
        return (np.exp(-1j * b * t) * acc).reshape(psi.shape)
    # T_1 psi = Ht psi with Ht = (H - b) / a
    r_curr = np.empty_like(r_prev)
    _kernels.stencil_apply(r_prev, V, eta, 1.0 / a, -b / a, r_curr)
    acc += c[1] * r_curr
    for n in range(2, len(c)):
        # T_n = 2 Ht T_{n-1} - T_{n-2}, written over T_{n-2} in place
        _kernels.chebyshev_step(r_curr, V, eta, 2.0 / a, -2.0 * b / a, r_prev, acc, c[n])
        r_prev, r_curr = r_curr, r_prev
    acc *= np.exp(-1j * b * t)
    return acc.reshape(psi.shape)


def evolve(hamiltonian, psi0, t=None, *, times=None, tol=1e-12, progress=False):
    """Solve ``i d/dt psi = H psi``: return ``exp(-i t H) psi0``.

    Parameters
    ----------
    hamiltonian : AndersonHamiltonian
    psi0 : numpy.ndarray of complex128, shape ``lattice.shape``
        Initial state (need not be normalised).
    t : float, optional
        The time (any sign; negative times run backwards). Give exactly one
        of ``t`` and ``times``.
    times : array_like of float, optional
        Several times; the result is stacked along a new first axis in the
        order given. Consecutive times are reached by successive expansions
        from one to the next, so the cost grows with the largest ``|t|``, not
        with the sum of the times; each step adds an overhead of order
        ``(a dt)^{1/3} log(1/tol)`` sweeps, so many closely spaced times cost more
        than one long step.
    tol : float, default 1e-12
        Bound on the l2 error relative to ``||psi0||`` (for ``times``: the bound
        holds at every time). Must lie in ``[1e-14, 0.1]``.
    progress : bool, default False
        Show a tqdm progress bar over the time steps.

    Returns
    -------
    numpy.ndarray of complex128
        Shape ``lattice.shape``, or ``(len(times),) + lattice.shape``.

    Notes
    -----
    With ``Ht = (H - b)/a`` mapping the Gershgorin interval onto [-1, 1],
    ``exp(-i t H) = exp(-i b t) sum_n c_n T_n(Ht)`` with ``c_0 = J_0(a t)``,
    ``c_n = 2 (-i)^n J_n(a t)`` (Bessel functions). The series is cut where
    the neglected ``sum |c_n|``, an upper bound of the operator-norm error,
    falls below ``tol``. Each term costs one fused stencil sweep (recursion
    and accumulation in one pass over memory); about ``a |t| + O((a|t|)^{1/3})``
    sweeps in total.

    Examples
    --------
    >>> import numpy as np
    >>> from chargetransport import Lattice, AndersonHamiltonian, random_potential
    >>> lat = Lattice(d=2, L=16)
    >>> H = AndersonHamiltonian(lat, 0.5, random_potential(lat, seed=0))
    >>> psi0 = np.zeros(lat.shape, complex); psi0[8, 8] = 1
    >>> psi_t = evolve(H, psi0, t=3.0)
    >>> bool(abs(np.linalg.norm(psi_t) - 1) < 1e-12)
    True
    """
    if not isinstance(hamiltonian, AndersonHamiltonian):
        raise TypeError("'hamiltonian' must be a chargetransport.AndersonHamiltonian, "
                        f"got {type(hamiltonian).__name__}")
    hamiltonian._check_psi(psi0, "psi0")
    tol = check_real("tol", tol, minimum=1e-14, maximum=0.1)
    if (t is None) == (times is None):
        raise TypeError("give exactly one of 't' and 'times'")
    if t is not None:
        return _chebyshev_step(hamiltonian, psi0, check_real("t", t), tol)
    times = check_real_array("times", times, ndim=1)
    out = np.empty((len(times),) + psi0.shape, dtype=np.complex128)
    for i, psi in trajectory(hamiltonian, psi0, times, tol=tol, progress=progress):
        out[i] = psi
    return out


def trajectory(hamiltonian, psi0, times, *, tol=1e-12, progress=False):
    """Iterate over ``(i, exp(-i times[i] H) psi0)``, keeping one state in memory at a time.

    The memory-light form of ``evolve(H, psi0, times=times)``: states come in
    order of increasing ``|t|`` (first the non-negative times, increasing, then
    the negative ones, decreasing), each reached from the previous one, with
    the index ``i`` into ``times``. Same accuracy guarantee as :func:`evolve`:
    l2 error <= ``tol ||psi0||`` at every time.

    Examples
    --------
    >>> import numpy as np, chargetransport as ct
    >>> lat = ct.Lattice(d=1, L=32)
    >>> H = ct.AndersonHamiltonian(lat, 0.3, ct.random_potential(lat, seed=1))
    >>> psi0 = ct.gaussian_wave_packet(lat, center=0, width=3.0, momentum=0.2)
    >>> [round(float(ct.mean_square_displacement(psi)), 3) for _, psi in
    ...  ct.trajectory(H, psi0, [0.0, 1.0])][0]
    9.0
    """
    if not isinstance(hamiltonian, AndersonHamiltonian):
        raise TypeError("'hamiltonian' must be a chargetransport.AndersonHamiltonian, "
                        f"got {type(hamiltonian).__name__}")
    hamiltonian._check_psi(psi0, "psi0")
    tol = check_real("tol", tol, minimum=1e-14, maximum=0.1)
    times = check_real_array("times", times, ndim=1)
    # Walk outwards from t = 0 in both directions so every step is short; the
    # per-step tolerance makes the accumulated error at most tol.
    step_tol = tol / max(len(times), 1)
    order = np.argsort(times, kind="stable")
    negative = [i for i in order[::-1] if times[i] < 0]
    positive = [i for i in order if times[i] >= 0]
    bar = tqdm(total=len(times), disable=not progress, desc="evolve")
    for branch in (positive, negative):
        psi, t_now = psi0, 0.0
        for i in branch:
            if times[i] != t_now:
                psi = _chebyshev_step(hamiltonian, psi, times[i] - t_now, step_tol)
                t_now = times[i]
            bar.update()
            yield int(i), psi
    bar.close()


def free_evolution(lattice, psi0, t):
    """Exact free flow ``exp(-i t Delta) psi0``, diagonal in Fourier space.

    Parameters
    ----------
    lattice : Lattice
    psi0 : numpy.ndarray of complex128, shape ``lattice.shape``
    t : float or array_like of float
        One time, or a 1D array of times (result stacked along a new first axis).

    Returns
    -------
    numpy.ndarray of complex128

    Notes
    -----
    ``(exp(-i t Delta) psi)^(k) = exp(-i t e(k)) psi_hat(k)``; exact up to
    FFT rounding (~1e-15), at any time, for the cost of two FFTs.
    """
    if not isinstance(lattice, Lattice):
        raise TypeError(f"'lattice' must be a chargetransport.Lattice, got {type(lattice).__name__}")
    check_field("psi0", psi0, lattice.shape)
    scalar = np.ndim(t) == 0
    ts = np.atleast_1d(check_real_array("t", t))
    if ts.ndim != 1:
        raise ValueError(f"'t' must be a number or a 1D array of times, got shape {ts.shape}")
    e = lattice.dispersion()
    psi_hat = np.fft.fftn(psi0)
    out = np.stack([np.fft.ifftn(np.exp(-1j * tj * e) * psi_hat) for tj in ts])
    return out[0] if scalar else out
