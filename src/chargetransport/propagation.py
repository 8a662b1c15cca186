"""Time evolution ``exp(-i t H) psi``: Chebyshev expansion, and exact free flow."""
from __future__ import annotations

import numpy as np
from scipy import special
from tqdm import tqdm

from ._validation import (check_bool, check_field, check_finite_field, check_instance,
                          check_memory, check_real, check_real_array)
from .hamiltonian import AndersonHamiltonian
from .lattice import Lattice

__all__ = ["evolve", "trajectory", "free_evolution", "chebyshev_num_terms", "chebyshev_series"]


def chebyshev_series(tau):
    """Chebyshev coefficients of ``exp(-i tau x) = sum_n c_n T_n(x)`` on [-1, 1], and their tails.

    The one implementation of the series behind :func:`evolve` and
    :mod:`chargetransport.duhamel`.

    Parameters
    ----------
    tau : float
        ``a t``: the time times the half-width ``a`` of the rescaled spectrum.

    Returns
    -------
    c : numpy.ndarray of complex128
        ``c_0 = J_0(tau)``, ``c_n = 2 (-i)^n J_n(tau)`` for ``n = 0, ..., n_max``.
    tail : numpy.ndarray of float64
        ``tail[m] = sum_{n >= m} |c_n|``, which bounds the operator-norm error of
        the series cut before term ``m``.

    Notes
    -----
    ``J_n(tau)`` decays super-exponentially for ``n > |tau|``;
    ``n_max = |tau| + 20 max(|tau|, 1)^{1/3} + 80`` reaches far below 1e-16.

    Examples
    --------
    >>> c, tail = chebyshev_series(0.0)
    >>> complex(c[0]), float(tail[1])
    ((1+0j), 0.0)
    """
    z = abs(tau)
    n_max = int(z + 20.0 * max(z, 1.0) ** (1.0 / 3.0) + 80)
    n = np.arange(n_max + 1)
    jn = special.jv(n, tau)
    mags = 2.0 * np.abs(jn)
    mags[0] /= 2.0
    tail = np.cumsum(mags[::-1])[::-1]
    c = 2.0 * (-1j) ** n * jn
    c[0] = jn[0]
    return c, tail


# Bytes per term that chebyshev_series allocates: int64 and float64 arrays (n, J_n, |c_n|,
# their cumulative sum and its reversal) and complex128 ones ((-i)^n, 2 (-i)^n, c_n).
_SERIES_BYTES_PER_TERM = 5 * 8 + 3 * 16


def _check_series_size(name, tau):
    """Raise ValueError naming `name` if the series for tau = a t would not fit in memory."""
    z = abs(tau)
    terms = z + 20.0 * max(z, 1.0) ** (1.0 / 3.0) + 81
    check_memory(name, terms * _SERIES_BYTES_PER_TERM,
                 f"the Chebyshev series of exp(-i t H) ({terms:.3g} terms, one stencil sweep each)",
                 "split the time range (evolve with 'times' takes one step per entry) or use a "
                 "shorter time")


def _truncated_series(tau, tol):
    """The coefficients c_0, ..., c_{N-1} with the smallest N >= 1 such that
    sum_{n >= N} |c_n| <= tol."""
    c, tail = chebyshev_series(tau)
    below = np.nonzero(tail <= tol)[0]
    num = max(int(below[0]) if below.size else len(c), 1)
    return c[:num]


def chebyshev_num_terms(hamiltonian, t, tol=1e-12):
    """Number of terms of the Chebyshev series :func:`evolve` uses for one time step ``t``.

    Every term after the zeroth (``psi0`` itself) costs one stencil sweep. The count
    grows like ``a |t|`` (``a`` the spectral half-width, about ``2d + eta max|V|``)
    plus a correction of order ``(a |t|)^{1/3} log(1/tol)``.

    Examples
    --------
    >>> import chargetransport as ct
    >>> H = ct.AndersonHamiltonian(ct.Lattice(d=1, L=8), eta=0.0)
    >>> chebyshev_num_terms(H, 0.0), chebyshev_num_terms(H, 10.0) > 2 * 10
    (1, True)
    """
    check_instance("hamiltonian", hamiltonian, AndersonHamiltonian)
    tol = check_real("tol", tol, minimum=1e-14, maximum=0.1)
    a, _ = hamiltonian.spectral_rescaling()
    tau = a * check_real("t", t)
    _check_series_size("t", tau)
    return len(_truncated_series(tau, tol))


# Chebyshev terms computed per sweep over memory (AndersonHamiltonian.chebyshev_steps).
# On the 2-core host of the project, evolve with 2 threads per term: 3D L = 100 1.6
# ns/site with 4 against 3.0 with 1, 2D L = 1024 1.6 against 3.1; L = 48-64 and 2D L =
# 128-512 within 10 %; fields that stay in cache (3D L = 32) 10 % slower with 4, the
# extra passes over the edges costing more than the memory they save. More than 4
# gained little.
_STEPS_PER_SWEEP = 4
_FUSED_MIN_SITES = 1 << 16


def _chebyshev_step(H, psi, t, tol):
    """One Chebyshev expansion of exp(-i t H) psi, error <= tol ||psi||."""
    a, b = H.spectral_rescaling()
    c = _truncated_series(a * t, tol)
    r_prev = psi.copy()                 # T_0 psi
    acc = c[0] * r_prev
    if len(c) == 1:
        return np.exp(-1j * b * t) * acc
    # T_1 psi = Ht psi with Ht = (H - b) / a
    r_curr = np.empty_like(r_prev)
    H.apply_affine(r_prev, r_curr, 1.0 / a, -b / a)
    acc += c[1] * r_curr
    # T_n = 2 Ht T_{n-1} - T_{n-2}, written over T_{n-2} in place; several terms per sweep
    # over memory (bit for bit the same as one step at a time)
    per_sweep = _STEPS_PER_SWEEP if psi.size >= _FUSED_MIN_SITES else 1
    n = 2
    while n < len(c):
        k = min(per_sweep, len(c) - n)
        H.chebyshev_steps(r_curr, r_prev, 2.0 / a, -2.0 * b / a, acc, c[n:n + k])
        if k % 2:                       # the newest term is in r_prev
            r_prev, r_curr = r_curr, r_prev
        n += k
    acc *= np.exp(-1j * b * t)
    return acc


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

    Raises
    ------
    ValueError
        If ``psi0`` holds NaN or inf, or if ``|t|`` is so large that the
        coefficients of the series would not fit in memory.

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
    check_instance("hamiltonian", hamiltonian, AndersonHamiltonian)
    hamiltonian.check_field(psi0, "psi0")
    tol = check_real("tol", tol, minimum=1e-14, maximum=0.1)
    progress = check_bool("progress", progress)
    if (t is None) == (times is None):
        raise TypeError("give exactly one of 't' and 'times'")
    if t is not None:
        t = check_real("t", t)
        _check_series_size("t", hamiltonian.spectral_rescaling()[0] * t)
        return _chebyshev_step(hamiltonian, psi0, t, tol)
    times = check_real_array("times", times, ndim=1)
    check_memory("times", 16 * psi0.size * len(times), f"the stack of {len(times)} states")
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

    The arguments are checked when ``trajectory`` is called (errors as for
    :func:`evolve`), not when the first state is requested.

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
    check_instance("hamiltonian", hamiltonian, AndersonHamiltonian)
    hamiltonian.check_field(psi0, "psi0")
    tol = check_real("tol", tol, minimum=1e-14, maximum=0.1)
    times = check_real_array("times", times, ndim=1)
    progress = check_bool("progress", progress)
    if times.size:
        _check_series_size("times", hamiltonian.spectral_rescaling()[0] * np.abs(times).max())
    # the arguments are checked now, when trajectory is called; the generator below runs
    # only when iterated
    return _trajectory(hamiltonian, psi0, times, tol, progress)


def _trajectory(hamiltonian, psi0, times, tol, progress):
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
        The box (its twist included).
    psi0 : numpy.ndarray of complex128, shape ``lattice.shape``
    t : float or array_like of float
        One time, or a 1D array of times (result stacked along a new first axis;
        an empty array gives an empty stack, as ``evolve(..., times=[])`` does).

    Returns
    -------
    numpy.ndarray of complex128

    Notes
    -----
    ``(exp(-i t Delta) psi)^(k) = exp(-i t e(k)) psi_hat(k)`` on the momentum
    grid of the box; exact up to FFT rounding (~1e-15), at any time, for the
    cost of two FFTs. On a twisted box the FFT acts on the periodic field
    ``psi0 / g`` with ``g = lattice.twist_factor()``, and the result is
    multiplied back by ``g``.

    Examples
    --------
    >>> import numpy as np, chargetransport as ct
    >>> lat = ct.Lattice(d=1, L=8)
    >>> psi = ct.plane_wave(lat, 0.25)                # e(1/4) = 0: a stationary state
    >>> bool(np.allclose(free_evolution(lat, psi, 5.0), psi))
    True
    """
    check_instance("lattice", lattice, Lattice)
    check_field("psi0", psi0, lattice.shape)
    check_finite_field("psi0", psi0)
    scalar = np.ndim(t) == 0
    ts = np.atleast_1d(check_real_array("t", t))
    if ts.ndim != 1:
        raise ValueError(f"'t' must be a number or a 1D array of times, got shape {ts.shape}")
    if ts.size == 0:
        return np.empty((0,) + lattice.shape, dtype=np.complex128)
    e = lattice.dispersion()
    if not lattice.is_twisted:
        psi_hat = np.fft.fftn(psi0)
        out = np.stack([np.fft.ifftn(np.exp(-1j * tj * e) * psi_hat) for tj in ts])
    else:
        g = lattice.twist_factor()
        psi_hat = np.fft.fftn(psi0 * np.conj(g))
        out = np.stack([g * np.fft.ifftn(np.exp(-1j * tj * e) * psi_hat) for tj in ts])
    return out[0] if scalar else out
