"""The Duhamel (resolvent) expansion ``psi_t = sum_n psi_t^(n)`` of section 2.3.

``psi_t^(n)`` is the part of ``exp(-it(Delta + eta V)) psi_0`` of degree ``n`` in
``eta``: the paper writes it as the resolvent integral

    psi_t^(n) = (-eta)^n / (2 pi i) e^{eps t} int dE e^{-itE} (R V)^n R psi_0,
    R = (Delta - E - i eps)^{-1},

which is the ``n``-th Duhamel term

    psi_t^(n) = (-i eta)^n int_{0 < s_1 < ... < s_n < t} e^{-i(t - s_n) Delta} V ...
                V e^{-i(s_2 - s_1) Delta} V e^{-i s_1 Delta} psi_0 ds,

and the terms solve the triangular hierarchy

    i d/dt psi^(0) = Delta psi^(0),   i d/dt psi^(n) = Delta psi^(n) + eta V psi^(n-1),
    psi_0^(0) = psi_0,  psi_0^(n) = 0 (n >= 1).

The hierarchy is ``i d/dt Psi = A Psi`` for ``Psi = (psi^(0), ..., psi^(N))`` with the
block-bidiagonal generator ``A = 1 (x) Delta + eta S (x) V`` (``S`` the lower shift),
so ``Psi_t = exp(-itA) Psi_0`` exactly. We expand this exponential in Chebyshev
polynomials, like :func:`chargetransport.evolve` does for ``H``: this is the
Chebyshev series of ``exp(-it(Delta + lambda eta V))`` with its coefficients expanded
in powers of ``lambda`` (``S`` acts as the formal variable ``lambda``). Each term
costs one stencil sweep per level.

Giving a different potential ``V_m`` to each level (the ``m``-th interaction in time)
gives the multilinear terms used to isolate the contribution of a single pairing
(:func:`pairing_contribution`).
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from . import _kernels
from ._validation import (check_field, check_finite_field, check_instance, check_int,
                          check_memory, check_real, check_real_array)
from .hamiltonian import AndersonHamiltonian, as_3d, chebyshev_rescaling
from .lattice import Lattice
from .propagation import _check_series_size, chebyshev_series

__all__ = ["duhamel_terms", "kinetic_duhamel_norms", "multilinear_duhamel_terms",
           "pairing_contribution", "pairing_contributions", "truncation_order"]

# Every this many Chebyshev terms (past a t) the norms of the current vectors are
# measured to estimate the truncation error.
_CHECK_EVERY = 8


# --------------------------------------------------------------------------------------
# Numba kernels
# --------------------------------------------------------------------------------------
@nb.njit(cache=True, inline="always")
def _hierarchy_rows(W, V, vindex, c_h, c_v, prev, acc, c_acc, phases, chunk, nchunks):
    """Rows (level, i, j) of a chunk: prev <- c_h Delta W[level] + c_v V W[level-1] - prev;
    acc[s] += c_acc[s] prev for every output time s."""
    levels, n0, n1, n = W.shape
    rows = n0 * n1
    w2 = W.reshape(levels * rows, n)
    q2 = prev.reshape(levels * rows, n)
    a3 = acc.reshape(acc.shape[0], levels * rows, n)
    v2 = V.reshape(V.shape[0] * rows, n)
    scratch = np.zeros((_kernels._SCRATCH_ROWS, n), dtype=W.dtype)
    first, last = chunk * levels * rows // nchunks, (chunk + 1) * levels * rows // nchunks
    for row in range(first, last):
        level = row // rows
        rest = row - level * rows
        i, j = rest // n1, rest % n1
        base = level * rows
        xa, xm, xb, xp, ya, ym, yb, yp = _kernels.neighbour_rows(w2, base, scratch, i, j, n0, n1,
                                                                 phases)
        left, right = _kernels.wrap_values(w2, row, phases)
        q2[row, 0] = c_h * (xa[xm, 0] + xb[xp, 0] + ya[ym, 0] + yb[yp, 0] + left
                            + w2[row, 1]) - q2[row, 0]
        for k in range(1, n - 1):
            q2[row, k] = c_h * (xa[xm, k] + xb[xp, k] + ya[ym, k] + yb[yp, k] + w2[row, k - 1]
                                + w2[row, k + 1]) - q2[row, k]
        k = n - 1
        q2[row, k] = c_h * (xa[xm, k] + xb[xp, k] + ya[ym, k] + yb[yp, k] + w2[row, k - 1]
                            + right) - q2[row, k]
        if level > 0:
            vrow = vindex[level] * rows + rest
            below = row - rows
            for k in range(n):
                q2[row, k] += c_v * v2[vrow, k] * w2[below, k]
        for s in range(c_acc.shape[0]):
            cs = c_acc[s]
            if cs != 0.0:
                for k in range(n):
                    a3[s, row, k] += cs * q2[row, k]


@nb.njit(cache=True, parallel=True)
def _hierarchy_step_threads(W, V, vindex, c_h, c_v, prev, acc, c_acc, phases, nchunks):
    for chunk in nb.prange(nchunks):
        _hierarchy_rows(W, V, vindex, c_h, c_v, prev, acc, c_acc, phases, chunk, nchunks)


@nb.njit(cache=True)
def _hierarchy_step_serial(W, V, vindex, c_h, c_v, prev, acc, c_acc, phases):
    _hierarchy_rows(W, V, vindex, c_h, c_v, prev, acc, c_acc, phases, 0, 1)


def _hierarchy_step(W, V, vindex, c_h, c_v, prev, acc, c_acc, phases):
    if W.size >= _kernels.PARALLEL_MIN_SITES:
        _hierarchy_step_threads(W, V, vindex, c_h, c_v, prev, acc, c_acc, phases,
                                _kernels.num_chunks(W.shape[0] * W.shape[1] * W.shape[2]))
    else:
        _hierarchy_step_serial(W, V, vindex, c_h, c_v, prev, acc, c_acc, phases)


# --------------------------------------------------------------------------------------
# The Chebyshev series of the block-bidiagonal generator
# --------------------------------------------------------------------------------------
def _run_hierarchy(lattice, eta, potentials, vindex, psi0, times, tol, names):
    """Psi_t = exp(-itA) (psi0, 0, ..., 0) at every t of `times` (one Chebyshev pass).

    potentials: (num_V,) + shape; vindex[level] = which potential level acts with.
    names: the parameters that set the number of levels and the times (for errors);
    the caller has checked the size with _check_hierarchy_size.
    Returns an array (len(times), levels) + shape.
    """
    levels = len(vindex)
    phases = _kernels.boundary_phases(lattice.twist)
    shape3 = as_3d(psi0).shape
    # a private, writable copy: the kernels take read-only arrays through a slow path
    V = np.array(potentials.reshape((len(potentials),) + shape3), dtype=np.float64, order="C")
    vmax = float(np.abs(V).max()) if V.size else 0.0
    # the Gershgorin half-width of every Delta + eta V_m, centred at 0 (the hierarchy has
    # no diagonal shift), widened by the margin evolve uses
    half_width = 2.0 * lattice.d + eta * vmax
    a, _ = chebyshev_rescaling(-half_width, half_width)
    _check_series_size(names[1], a * max(times))
    series = [chebyshev_series(a * t) for t in times]
    num_terms = max(len(c) for c, _ in series)
    C = np.zeros((len(times), num_terms), dtype=np.complex128)
    tails = np.zeros((len(times), num_terms + 1))
    for s, (c, tail) in enumerate(series):
        C[s, :len(c)] = c
        tails[s, :len(tail)] = tail
    norm0 = float(np.linalg.norm(psi0))
    W_prev = np.zeros((levels,) + shape3, dtype=np.complex128)
    W_prev[0] = as_3d(psi0)
    acc = C[:, 0, None, None, None, None] * W_prev[None]
    if norm0 == 0.0 or num_terms < 2:
        return acc.reshape((len(times), levels) + psi0.shape)
    # T_1 Psi = (A / a) Psi, written into a zero "prev"
    W_cur = np.zeros_like(W_prev)
    _hierarchy_step(W_prev, V, vindex, 1.0 / a, eta / a, W_cur, acc, C[:, 1].copy(), phases)
    t_max = max(times)
    estimate = np.inf
    for k in range(2, num_terms):
        # T_k = 2 (A/a) T_{k-1} - T_{k-2}, written over T_{k-2}
        _hierarchy_step(W_cur, V, vindex, 2.0 / a, 2.0 * eta / a, W_prev, acc, C[:, k].copy(),
                        phases)
        W_prev, W_cur = W_cur, W_prev
        if k > a * t_max and (k % _CHECK_EVERY == 0 or k == num_terms - 1):
            # the neglected terms are c_j T_j Psi_0, j > k; |T_j Psi_0| is measured on the
            # current term and allowed to grow by a factor 2 over the short tail
            growth = max(float(np.linalg.norm(W_cur[n])) for n in range(levels)) / norm0
            estimate = 2.0 * max(growth, 1.0) * float(tails[:, k + 1].max())
            if estimate <= tol:
                break
    if estimate > tol:
        raise RuntimeError(f"the Chebyshev series did not reach tol = {tol:g} "
                           f"(estimated error {estimate:.1e}); lower 'order' or 't'")
    return acc.reshape((len(times), levels) + psi0.shape)


def _check_hierarchy_size(name, levels, num_sites, num_times):
    """Raise ValueError naming `name` if the hierarchy's fields would not fit in memory:
    T_{k-1} and T_k of every level and one accumulator per time (complex)."""
    check_memory(name, 16 * num_sites * levels * (2 + num_times),
                 f"the Duhamel hierarchy ({levels} levels of {num_sites} sites, {num_times} times)")


def _check_lattice_arguments(lattice, eta, psi0, t, times, tol):
    """Validate the arguments shared by the lattice-based expansions: (eta, ts, scalar, tol)."""
    check_instance("lattice", lattice, Lattice)
    eta = check_real("eta", eta, minimum=0.0)
    check_field("psi0", psi0, lattice.shape)
    check_finite_field("psi0", psi0)
    ts, scalar = _check_times(t, times)
    tol = check_real("tol", tol, minimum=1e-14, maximum=1e-3)
    return eta, ts, scalar, tol


def _check_times(t, times):
    """(list of times, scalar?, the name of the parameter that gave them)."""
    if (t is None) == (times is None):
        raise TypeError("give exactly one of 't' and 'times'")
    if t is not None:
        return [check_real("t", t, minimum=0.0)], True
    arr = check_real_array("times", times, ndim=1)
    if arr.size == 0 or np.any(arr < 0):
        raise ValueError("'times' must be a non-empty 1D array of times >= 0")
    return [float(v) for v in arr], False


def duhamel_terms(hamiltonian, psi0, t=None, order=None, *, times=None, tol=1e-12):
    """The Duhamel terms ``psi_t^(0), ..., psi_t^(order)`` of ``exp(-itH) psi0``.

    Parameters
    ----------
    hamiltonian : AndersonHamiltonian
        ``H = Delta + eta V``.
    psi0 : numpy.ndarray of complex128, shape ``lattice.shape``
    t : float, optional
        Time, ``t >= 0``. Give exactly one of ``t`` and ``times``.
    order : int
        Highest term ``N >= 0`` (required).
    times : array_like of float, optional
        Several times ``>= 0``, all obtained from one Chebyshev pass (the polynomials
        ``T_k(A/a) Psi_0`` do not depend on ``t``, only the coefficients do).
    tol : float, default 1e-12
        Target error of every term, relative to ``||psi0||`` (in ``[1e-14, 1e-3]``).

    Returns
    -------
    numpy.ndarray of complex128
        Shape ``(order + 1,) + lattice.shape`` (or ``(len(times), order + 1) + ...``):
        ``psi_t^(n)``, the part of degree ``n`` in ``eta`` of ``exp(-itH) psi0``;
        ``sum_n psi_t^(n)`` converges to ``exp(-itH) psi0``, with
        ``||psi_t^(n)|| <= (eta t max|V|)^n / n! ||psi0||``.

    Raises
    ------
    RuntimeError
        If the estimated truncation error exceeds ``tol`` (not seen in practice:
        the Chebyshev coefficients decay super-exponentially past ``a t``).

    Notes
    -----
    The hierarchy ``i d/dt psi^(n) = Delta psi^(n) + eta V psi^(n-1)`` is integrated
    exactly as ``exp(-itA)`` with ``A = 1 (x) Delta + eta S (x) V`` (block
    bidiagonal, ``S`` the shift ``n -> n + 1``), expanded as ``sum_k c_k T_k(A / a)``
    with ``c_k = (2 - delta_k0) (-i)^k J_k(a t)`` and ``a = 2d + eta max|V|``, the
    Gershgorin half-width of ``H`` used by :func:`chargetransport.evolve`. ``A`` is not
    normal, but ``T_k(A/a)`` applied to ``(psi0, 0, ...)`` is the expansion in powers
    of ``lambda`` of ``T_k((Delta + lambda eta V)/a) psi0``, whose norm is at most 1 for
    real ``|lambda| <= 1``; its level-``n`` part grows at most polynomially in ``k``.
    The series is stopped when ``sum_{j > k} |c_j|`` times twice the largest measured
    level norm of ``T_k(A/a) Psi_0`` falls below ``tol``. Cost: about
    ``(order + 1) (a t + O((a t)^{1/3}))`` stencil sweeps.

    References
    ----------
    Chen (2010), section 2.3 (the resolvent expansion of ``psi_t``) and section 3.2.

    Examples
    --------
    >>> import numpy as np, chargetransport as ct
    >>> lat = ct.Lattice(d=2, L=16)
    >>> H = ct.AndersonHamiltonian(lat, 0.3, ct.random_potential(lat, seed=0))
    >>> psi0 = ct.gaussian_wave_packet(lat, center=(0, 0), width=2.0, momentum=(0.1, 0.2))
    >>> terms = duhamel_terms(H, psi0, t=2.0, order=25)
    >>> bool(np.linalg.norm(terms.sum(axis=0) - ct.evolve(H, psi0, t=2.0)) < 1e-10)
    True
    """
    check_instance("hamiltonian", hamiltonian, AndersonHamiltonian)
    hamiltonian.check_field(psi0, "psi0")
    ts, scalar = _check_times(t, times)
    if order is None:
        raise TypeError("'order' (the highest Duhamel term) is required")
    order = check_int("order", order, minimum=0)
    tol = check_real("tol", tol, minimum=1e-14, maximum=1e-3)
    _check_hierarchy_size("order", order + 1, psi0.size, len(ts))
    vindex = np.array([-1] + [0] * order, dtype=np.int64)
    terms = _run_hierarchy(hamiltonian.lattice, hamiltonian.eta, hamiltonian.potential[None],
                           vindex, psi0, ts, tol, ("order", "t" if scalar else "times"))
    return terms[0] if scalar else terms


def multilinear_duhamel_terms(lattice, eta, potentials, psi0, t=None, *, times=None,
                              tol=1e-12):
    """Duhamel terms with a different potential at each interaction.

    Parameters
    ----------
    lattice : Lattice
    eta : float
        Coupling, ``eta >= 0``.
    potentials : sequence of numpy.ndarray of float64, each of shape ``lattice.shape``
        ``V_1, ..., V_N``: ``V_m`` acts at the ``m``-th interaction in time order.
    psi0 : numpy.ndarray of complex128, shape ``lattice.shape``
    t : float, optional
        Time, ``t >= 0``.
    times : array_like of float, optional
        Several times instead of ``t`` (one Chebyshev pass).
    tol : float, default 1e-12

    Returns
    -------
    numpy.ndarray of complex128, shape ``(N + 1,) + lattice.shape``
        (or ``(len(times), N + 1) + lattice.shape``).
        Level ``n`` is ``(-i eta)^n int_{s_1 < ... < s_n} e^{-i(t-s_n)Delta} V_n ...
        V_1 e^{-i s_1 Delta} psi_0`` (level 0 the free evolution).

    Notes
    -----
    With all ``V_m = V`` this is :func:`duhamel_terms`. The multilinear form isolates
    single Feynman graphs: placing independent centred fields, one per contraction,
    at the two vertices of each contraction makes every other pairing average to zero
    (see :func:`pairing_contribution`).

    Examples
    --------
    >>> import numpy as np, chargetransport as ct
    >>> lat = ct.Lattice(d=1, L=32)
    >>> V = ct.random_potential(lat, seed=3)
    >>> psi0 = np.zeros(32, complex); psi0[16] = 1
    >>> a = multilinear_duhamel_terms(lat, 0.2, [V, V], psi0, t=3.0)
    >>> b = duhamel_terms(ct.AndersonHamiltonian(lat, 0.2, V), psi0, t=3.0, order=2)
    >>> bool(np.abs(a - b).max() < 1e-13)
    True
    """
    eta, ts, scalar, tol = _check_lattice_arguments(lattice, eta, psi0, t, times, tol)
    if isinstance(potentials, np.ndarray) and potentials.shape == lattice.shape:
        raise TypeError("'potentials' must be a sequence of arrays (one per interaction); "
                        "for one potential at every vertex use duhamel_terms")
    potentials = list(potentials)
    for m, V in enumerate(potentials):
        check_field(f"potentials[{m}]", V, lattice.shape, dtype=np.float64)
        check_finite_field(f"potentials[{m}]", V)
    _check_hierarchy_size("potentials", len(potentials) + 1, psi0.size, len(ts))
    stacked = (np.stack(potentials) if potentials
               else np.zeros((1,) + lattice.shape, dtype=np.float64))
    vindex = np.array([-1] + list(range(len(potentials))), dtype=np.int64)
    terms = _run_hierarchy(lattice, eta, stacked, vindex, np.ascontiguousarray(psi0), ts, tol,
                           ("potentials", "t" if scalar else "times"))
    return terms[0] if scalar else terms


def pairing_contributions(lattice, eta, graph_list, psi0, t=None, *, times=None, seed,
                          distribution="gaussian", tol=1e-12):
    """One-realization estimates of the contributions of several graphs, sharing the work.

    Parameters
    ----------
    lattice : Lattice
    eta : float
        Coupling, ``eta >= 0``.
    graph_list : sequence of (graph, n)
        Contraction graphs (tuples of pairs ``(l, l')``, see :mod:`chargetransport.graphs`)
        with the number ``n`` of vertices on their left line; ``nbar = 2 len(graph) - n``.
    psi0 : numpy.ndarray of complex128, shape ``lattice.shape``
    t : float, optional
        Time ``t >= 0``; give exactly one of ``t`` and ``times``.
    times : array_like of float, optional
        Several times (one Chebyshev pass per line).
    seed : int or numpy.random.SeedSequence
        Independent fields ``W_1, W_2, ...`` are drawn from the children of ``seed``; the
        ``c``-th contraction of every graph (in the sorted order of its pairs) uses ``W_c``.
    distribution : str, default "gaussian"
        Law of the fields (see :func:`chargetransport.random_potential`).
    tol : float, default 1e-12

    Returns
    -------
    numpy.ndarray of complex128
        Shape ``(len(graph_list),)`` (or ``(len(graph_list), len(times))``): for each graph
        ``<phi^(n), phi^(nbar)>``, where ``phi`` are :func:`multilinear_duhamel_terms` with the
        field of contraction ``c`` at both of its vertices. Vertex ``l <= n`` is the
        ``l``-th interaction of the left line in time, vertex ``n + nbar + 1 - m`` the
        ``m``-th of the right line.

    Notes
    -----
    For independent centred fields with ``E[W_c(x) W_c(y)] = delta_xy``, each placed at
    exactly two vertices, the only pairing that survives the average is the graph itself,
    so ``E <phi^(n), phi^(nbar)> = Amp(graph)`` for any law of the fields (no higher
    cumulants enter). This is the graph's contribution to ``E <psi^(n), psi^(nbar)>``,
    the Wigner pairing of eq. (2.16) with ``J = 1``. In a large box one realization
    already self-averages (the error falls like the inverse square root of the number of
    momenta on the energy shell). Lines with the same sequence of fields are computed
    once (e.g. both lines of a ladder); a line without vertices is the free evolution,
    computed by FFT.

    References
    ----------
    Chen (2010), eqs. (2.13)-(2.16).

    Examples
    --------
    >>> import numpy as np, chargetransport as ct
    >>> lat = ct.Lattice(d=2, L=24)
    >>> psi0 = ct.gaussian_wave_packet(lat, (0, 0), 3.0, (0.1, 0.2))
    >>> g22 = [(((1, 4), (2, 3)), 2), (((1, 2), (3, 4)), 2), (((1, 3), (2, 4)), 2)]
    >>> parts = pairing_contributions(lat, 0.3, g22, psi0, 4.0, seed=0)
    >>> parts.shape
    (3,)
    """
    from . import graphs as _graphs
    from .disorder import random_potential
    from .propagation import free_evolution
    from .rng import realization_seeds

    eta, ts, scalar, tol = _check_lattice_arguments(lattice, eta, psi0, t, times, tol)
    sequences = []
    num_fields = 0
    for k, item in enumerate(graph_list):
        try:
            graph, n = item
        except (TypeError, ValueError) as exc:
            raise TypeError(f"'graph_list[{k}]' must be a pair (graph, n)") from exc
        partner = _graphs._graph_partner(graph, n, name=f"graph_list[{k}]")
        m2 = len(partner)
        n = check_int("n", n, minimum=0, maximum=m2)
        label = {}
        for c, (a, b) in enumerate(_graphs._as_tuple(partner)):
            label[a] = label[b] = c
        left = tuple(label[v] for v in range(1, n + 1))
        right = tuple(label[m2 + 1 - m] for m in range(1, m2 - n + 1))
        sequences.append((left, right))
        num_fields = max(num_fields, m2 // 2)
    fields = [random_potential(lattice, distribution, seed=s)
              for s in realization_seeds(seed, num_fields)]
    psi0 = np.ascontiguousarray(psi0)
    cache = {}

    def line(sequence):
        if sequence not in cache:
            if not sequence:
                cache[sequence] = free_evolution(lattice, psi0, np.array(ts))
            else:
                cache[sequence] = multilinear_duhamel_terms(
                    lattice, eta, [fields[c] for c in sequence], psi0, times=ts, tol=tol)[:, -1]
        return cache[sequence]

    out = np.empty((len(sequences), len(ts)), dtype=np.complex128)
    for k, (left, right) in enumerate(sequences):
        a, b = line(left), line(right)
        out[k] = [np.vdot(a[i], b[i]) for i in range(len(ts))]
    return out[:, 0] if scalar else out


def pairing_contribution(lattice, eta, graph, n, psi0, t=None, *, times=None, seed,
                         distribution="gaussian", tol=1e-12):
    """One-realization estimate of the contribution of one graph to ``E <psi^(n), psi^(nbar)>``.

    The single-graph form of :func:`pairing_contributions` (see there for the method).

    Parameters
    ----------
    lattice : Lattice
    eta : float
    graph : tuple of (int, int)
        A contraction graph of ``Gamma_{n, nbar}``.
    n : int
        Vertices on the left line.
    psi0 : numpy.ndarray of complex128
    t : float, optional
    times : array_like of float, optional
    seed : int or numpy.random.SeedSequence
    distribution : str, default "gaussian"
    tol : float, default 1e-12

    Returns
    -------
    complex or numpy.ndarray of complex

    Examples
    --------
    >>> import numpy as np, chargetransport as ct
    >>> lat = ct.Lattice(d=1, L=64)
    >>> psi0 = ct.gaussian_wave_packet(lat, (0,), 4.0, (0.2,))
    >>> z = pairing_contribution(lat, 0.3, ((1, 2),), 2, psi0, 3.0, seed=1)   # <phi^(2), psi^(0)>
    >>> isinstance(z, complex)
    True
    """
    values = pairing_contributions(lattice, eta, [(graph, n)], psi0, t, times=times, seed=seed,
                                   distribution=distribution, tol=tol)
    return complex(values[0]) if t is not None else values[0]


# --------------------------------------------------------------------------------------
# Closed forms
# --------------------------------------------------------------------------------------
def truncation_order(eta):
    """The truncation ``N = log(1/eta) / log log(1/eta)`` of the expansion (section 2.3.1).

    This is the lectures' ``N ~ log(1/eta) / log log(1/eta)`` read with the constant 1.

    Parameters
    ----------
    eta : float or array_like
        ``0 < eta < 1/e`` (so that ``log log(1/eta) > 0``).

    Returns
    -------
    float or numpy.ndarray
        ``N(eta)``, not rounded.

    Notes
    -----
    With ``L = log(1/eta)`` and ``N = L / log L``:

    * ``N log L = L`` exactly, so ``(log 1/eta)^N = 1/eta``;
    * ``N! < N^N = eta^{-(1 - log log L / log L)} < 1/eta``, and by Stirling
      ``log N! / L -> 1`` (like ``1 - (log log L + 1) / log L``): ``N! = eta^{-1 + o(1)}``,
      where the ``o(1)`` vanishes very slowly (``log N! / L`` is 0.39 at ``eta = 1e-2``, 0.40
      at ``1e-10``, 0.56 at ``1e-300``). So ``N! <~ eta^{-delta}`` holds for all small
      ``eta`` with ``delta = 1``, and for no ``delta < 1``.

    The proof sums ``O(N!)`` crossing and nesting graphs, each bounded by ``eta^{2/5}``
    times ``(log 1/eta)^3 (c T log 1/eta)^N``; with this ``N`` the factors
    ``N! (log 1/eta)^N`` alone lie between ``eta^{-1.37}`` and ``eta^{-1.57}`` for
    ``1e-300 <= eta <= 1e-2``, far more than the gain.
    The truncation that works is ``kappa`` times this one with ``kappa < 1/5``: then
    ``N! (log 1/eta)^N <= eta^{-2 kappa}`` and the sum is ``eta^{2/5 - 2 kappa - o(1)}``
    (``kappa * truncation_order(eta)``).

    Examples
    --------
    >>> round(float(truncation_order(1e-6)), 2)
    5.26
    >>> L = math.log(1e6)                     # (log 1/eta)^N = 1/eta exactly
    >>> round(float(truncation_order(1e-6) * math.log(L) / L), 12)
    1.0
    """
    arr = check_real_array("eta", eta)
    if np.any(arr <= 0) or np.any(arr >= math.exp(-1)):
        raise ValueError(f"'eta' must lie in (0, 1/e) for log log(1/eta) > 0, got {eta!r}")
    out = np.log(1 / arr) / np.log(np.log(1 / arr))
    return float(out) if out.ndim == 0 else out


def kinetic_duhamel_norms(x, order, shift=0.0):
    """Kinetic-limit prediction of ``E ||psi_t^(n)||^2`` for a plane wave (derived).

    Parameters
    ----------
    x : float
        ``x = 2 pi rho(E) eta^2 t``, the mean number of collisions up to time ``t``
        (``rho`` the density of states at the wave's energy).
    order : int
        Largest ``n``.
    shift : float, default 0
        ``eta^2 t Re Sigma(E)``: the real part of the self-energy times ``t`` (zero at
        the band centre ``E = 0`` in ``d = 3`` by the symmetry ``e(k + 1/2) = -e(k)``).

    Returns
    -------
    numpy.ndarray, shape ``(order + 1,)``
        ``sum_{j <= n/2} |z|^{2j} / (j!)^2 * x^(n - 2j) / (n - 2j)!`` with
        ``z = x/2 + i shift``.

    Notes
    -----
    Keep only decorated ladders (the dominant graphs). A term with ``k`` rungs and
    ``j`` immediate recollisions on each line: in the kinetic limit each recollision
    is an instantaneous factor ``-i theta`` with ``theta = eta^2 Sigma(E + i0)``,
    ``Im theta = -x / (2t)``, and summing over all places of the ``j`` recollisions
    among the ``k`` collisions gives ``(-i theta t)^j / j!`` times the ``k``-collision
    amplitude, whose squared norm is the ladder value ``x^k / k!``. Summed over ``n``
    with signs this reproduces ``e^{-i theta t}`` and ``||psi_t||^2 = e^{-x} e^x = 1``;
    summed without them, ``sum_n E||psi_t^(n)||^2 = e^x I_0(x)`` (for ``shift = 0``):
    the terms are exponentially larger than their sum.

    Examples
    --------
    >>> kinetic_duhamel_norms(2.0, 2)          # 1, x, x^2/2 + (x/2)^2
    array([1., 2., 3.])
    """
    x = check_real("x", x, minimum=0.0)
    order = check_int("order", order, minimum=0)
    shift = check_real("shift", shift)
    z2 = (x / 2.0) ** 2 + shift**2
    out = np.zeros(order + 1)
    for n in range(order + 1):
        out[n] = sum(z2**j / math.factorial(j) ** 2 * x ** (n - 2 * j) / math.factorial(n - 2 * j)
                     for j in range(n // 2 + 1))
    return out
