"""The Anderson Hamiltonian ``H = Delta + eta V`` on a periodic box (paper eq. (2.1))."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _chebyshev_sweeps, _kernels
from ._validation import check_field, check_finite_field, check_instance, check_real
from .lattice import Lattice

__all__ = ["AndersonHamiltonian", "SPECTRAL_MARGIN", "as_3d", "chebyshev_rescaling"]

#: Relative margin added to the Gershgorin half-width before a Chebyshev
#: expansion, so that rounding can never push the rescaled spectrum outside
#: [-1, 1], where T_n grows exponentially.
SPECTRAL_MARGIN = 1e-6


def as_3d(field):
    """View a d-dimensional lattice field as the 3D array the kernels expect."""
    return field.reshape((1,) * (3 - field.ndim) + field.shape)


def chebyshev_rescaling(lower, upper, margin=SPECTRAL_MARGIN):
    """The affine map ``x = (E - b) / a`` that puts ``[lower, upper]`` inside [-1, 1].

    Parameters
    ----------
    lower, upper : float
        Bounds of a spectrum, ``lower <= upper``.
    margin : float, default :data:`SPECTRAL_MARGIN`
        Relative widening of the half-width: the interval lands on
        ``[-1, 1] / (1 + margin)``.

    Returns
    -------
    tuple of float
        ``(a, b) = (0.5 (upper - lower) (1 + margin), 0.5 (upper + lower))``.

    Examples
    --------
    >>> chebyshev_rescaling(-4.0, 4.0, margin=0.0)
    (4.0, 0.0)
    """
    return 0.5 * (upper - lower) * (1.0 + margin), 0.5 * (upper + lower)


class AndersonHamiltonian:
    """``H = Delta + eta V`` acting on complex fields of a :class:`Lattice`.

    Parameters
    ----------
    lattice : Lattice
        The box, periodic or twisted (``lattice.twist``).
    eta : float
        Disorder strength, ``eta >= 0``.
    potential : numpy.ndarray of float64, shape ``lattice.shape``, optional
        The values ``omega_x`` of the random potential (normalised by the
        caller, usually via :func:`random_potential`, to ``E[omega] = 0``,
        ``E[omega^2] = 1``). ``None`` means ``V = 0``, i.e. ``H = Delta``.

    Notes
    -----
    ``(Delta psi)(x) = sum_{|y - x| = 1} psi(y)`` with the boundary condition
    of the box, symbol ``e(k) = sum_i 2 cos(2 pi k_i)`` on its momentum grid;
    ``(V psi)(x) = omega_x psi(x)``. By Gershgorin the spectrum lies in
    ``[-2d + eta min V, 2d + eta max V]`` (see :meth:`spectral_bounds`).

    On a twisted box (``psi(x + L e_i) = exp(2 pi i theta_i) psi(x)``) the
    hopping across the boundary of axis ``i`` carries the phase ``exp(+-2 pi
    i theta_i)`` (forward/backward); all other bonds are as in the periodic
    box, so the twist costs nothing in the bulk, and ``theta = 0`` runs exactly
    the periodic arithmetic. There is no ``twist`` argument here: the twist
    belongs to the box (see :class:`Lattice`), so that the Hamiltonian, the
    momentum grid and the free flow of one box always agree on it.

    Kernel interface. Polynomial methods (:func:`chargetransport.evolve`, the
    KPM, the Duhamel expansion) use four methods: :meth:`check_field`
    validates a field once at the public entry point, :meth:`spectral_rescaling`
    gives the map ``(H - b) / a`` onto [-1, 1], and :meth:`apply_affine`
    (``c_h H psi + c_id psi``) and :meth:`chebyshev_step` (one step of the
    three-term recursion fused with the accumulation of a series) run the
    stencil without any check, because they are called once per term in hot
    loops. :meth:`apply` is the checked form of :meth:`apply_affine`.

    Examples
    --------
    >>> import numpy as np
    >>> lat = Lattice(d=1, L=5)
    >>> H = AndersonHamiltonian(lat, eta=0.0)
    >>> psi = np.zeros(5, complex); psi[2] = 1
    >>> H.apply(psi).real
    array([0., 1., 0., 1., 0.])
    """

    def __init__(self, lattice, eta, potential=None):
        self.lattice = check_instance("lattice", lattice, Lattice)
        self.eta = check_real("eta", eta, minimum=0.0)
        if potential is None:
            potential = np.zeros(lattice.shape)
        else:
            check_field("potential", potential, lattice.shape, dtype=np.float64)
            check_finite_field("potential", potential)
        # A private copy, writable: Numba dispatches read-only arrays through a slow
        # path (~20 ms per call measured with numba 0.68), so only the public view is
        # read-only.
        self._potential = np.array(potential, dtype=np.float64, order="C", copy=True)
        self._potential_3d = as_3d(self._potential)
        # boundary phases of the kernels (see _kernels): forward and backward per 3D axis
        self._phases = _kernels.boundary_phases(lattice.twist)
        # H never changes: the bounds are computed once, not at every Chebyshev step
        d = lattice.d
        self._bounds = (-2.0 * d + self.eta * float(self._potential.min()),
                        2.0 * d + self.eta * float(self._potential.max()))

    def __repr__(self):
        return f"AndersonHamiltonian({self.lattice!r}, eta={self.eta})"

    @property
    def boundary_phases(self):
        """``exp(2 pi i theta_i)``, the phase of the forward hop across the boundary of axis i."""
        return tuple(complex(self._phases[0, axis + 3 - self.lattice.d])
                     for axis in range(self.lattice.d))

    @property
    def potential(self):
        """The potential values ``omega_x`` (read-only array of the lattice shape)."""
        view = self._potential.view()
        view.setflags(write=False)
        return view

    def spectral_bounds(self):
        """Rigorous bounds ``(E_min, E_max)`` on the spectrum (Gershgorin).

        Returns
        -------
        tuple of float
            ``(-2d + eta min V, 2d + eta max V)``.
        """
        return self._bounds

    def spectral_rescaling(self, margin=SPECTRAL_MARGIN):
        """``(a, b)`` such that the spectrum of ``(H - b) / a`` lies in ``[-1, 1] / (1 + margin)``.

        Parameters
        ----------
        margin : float, default :data:`SPECTRAL_MARGIN` (1e-6)
            Relative widening of the Gershgorin half-width (``>= 0``).

        Returns
        -------
        tuple of float
            ``a = (E_max - E_min) (1 + margin) / 2`` and ``b = (E_max + E_min) / 2``
            from :meth:`spectral_bounds`.

        Examples
        --------
        >>> AndersonHamiltonian(Lattice(d=2, L=4), eta=0.0).spectral_rescaling(margin=0.0)
        (4.0, 0.0)
        """
        margin = check_real("margin", margin, minimum=0.0)
        return chebyshev_rescaling(*self.spectral_bounds(), margin)

    def check_field(self, psi, name="psi", finite=True):
        """Validate a wave function for the kernels and return it unchanged.

        Parameters
        ----------
        psi : numpy.ndarray
            Must be complex128, of the lattice shape and C-contiguous.
        name : str, default "psi"
            The parameter name used in error messages.
        finite : bool, default True
            Also require finite values (one vectorised pass over ``psi``, no
            temporary array); ``False`` for an output buffer.

        Returns
        -------
        numpy.ndarray
            ``psi`` itself (no copy).

        Raises
        ------
        TypeError
            If ``psi`` is not a complex128 ndarray.
        ValueError
            If its shape is not ``lattice.shape``, it is not C-contiguous, or
            (``finite=True``) it holds NaN or inf.

        Examples
        --------
        >>> import numpy as np
        >>> H = AndersonHamiltonian(Lattice(d=1, L=4), eta=0.0)
        >>> H.check_field(np.array([1, np.nan, 0, 0], dtype=complex), "psi0")
        Traceback (most recent call last):
            ...
        ValueError: 'psi0' must contain only finite numbers (no NaN or inf)
        """
        check_field(name, psi, self.lattice.shape, dtype=np.complex128)
        if not psi.flags.c_contiguous:
            raise ValueError(f"'{name}' must be C-contiguous (use numpy.ascontiguousarray)")
        if finite and not _kernels.all_finite(psi):
            raise ValueError(f"'{name}' must contain only finite numbers (no NaN or inf)")
        return psi

    def apply(self, psi, out=None):
        """Return ``H psi``.

        Parameters
        ----------
        psi : numpy.ndarray of complex128, shape ``lattice.shape``, C-contiguous
        out : numpy.ndarray, optional
            Where to write the result (same shape and dtype, not ``psi``).

        Returns
        -------
        numpy.ndarray of complex128
            ``(Delta + eta V) psi``; a Numba stencil that streams through memory
            once (about 40 bytes per site).

        Raises
        ------
        ValueError
            If ``psi`` holds NaN or inf (see :meth:`check_field`).

        Notes
        -----
        The check of finite values reads ``psi`` once more, with a vectorised
        Numba pass (measured 15-30% of the cost of the stencil on a 3D box of
        side 128-256). Loops that apply ``H`` many times (:func:`evolve`, the
        KPM) check their input once and then call :meth:`apply_affine`, which
        does not check.
        """
        self.check_field(psi)
        if out is None:
            out = np.empty_like(psi)
        else:
            self.check_field(out, "out", finite=False)
            if np.shares_memory(out, psi):
                raise ValueError("'out' must not overlap 'psi'")
        return self.apply_affine(psi, out)

    def apply_affine(self, psi, out, c_h=1.0, c_id=0.0):
        """``out = c_h H psi + c_id psi`` without any check (kernel interface).

        Parameters
        ----------
        psi, out : numpy.ndarray of complex128, shape ``lattice.shape``, C-contiguous
            As accepted by :meth:`check_field`; ``out`` must not overlap ``psi``.
        c_h, c_id : float
            Real coefficients; ``(1 / a, -b / a)`` applies the rescaled
            ``(H - b) / a`` of :meth:`spectral_rescaling`.

        Returns
        -------
        numpy.ndarray
            ``out``.

        Examples
        --------
        The rescaled ``(H - b) / a`` of a plane wave: its energy mapped into [-1, 1].

        >>> import numpy as np, chargetransport as ct
        >>> lat = Lattice(d=1, L=8)
        >>> H = AndersonHamiltonian(lat, eta=0.0)
        >>> a, b = H.spectral_rescaling(margin=0.0)
        >>> psi = ct.plane_wave(lat, 0.125)                   # e = 2 cos(pi / 4)
        >>> out = H.apply_affine(psi, np.empty_like(psi), 1 / a, -b / a)
        >>> bool(np.allclose(out, np.cos(np.pi / 4) * psi))
        True
        """
        _kernels.stencil_apply(as_3d(psi), self._potential_3d, self.eta, c_h, c_id, as_3d(out),
                               self._phases)
        return out

    def chebyshev_step(self, psi, prev, c_h, c_id, acc=None, c_acc=0.0):
        """One fused step of a Chebyshev recursion, without any check (kernel interface).

        ``prev <- c_h H psi + c_id psi - prev``, then ``acc += c_acc prev`` (if
        ``acc`` is given and ``c_acc != 0``), in one pass over memory. With
        ``(c_h, c_id) = (2 / a, -2 b / a)`` this is ``T_{n+1} = 2 Ht T_n - T_{n-1}``
        for ``Ht = (H - b) / a``, written over ``T_{n-1}``.

        Parameters
        ----------
        psi, prev : numpy.ndarray of complex128, shape ``lattice.shape``, C-contiguous
            ``T_n psi_0`` and ``T_{n-1} psi_0``; ``prev`` is overwritten and must
            not overlap ``psi``.
        c_h, c_id : float
        acc : numpy.ndarray of complex128, optional
            The partial sum of the series (same shape); may be ``prev`` itself
            only with ``c_acc = 0``.
        c_acc : complex, default 0
            Coefficient of the new term in the series.

        Examples
        --------
        Three terms of ``T_n(Ht) psi``: for a plane wave, ``T_n(x) psi`` with ``x`` its
        rescaled energy, ``T_2(x) = 2 x^2 - 1``.

        >>> import numpy as np, chargetransport as ct
        >>> lat = Lattice(d=1, L=8)
        >>> H = AndersonHamiltonian(lat, eta=0.0)
        >>> a, b = H.spectral_rescaling(margin=0.0)
        >>> t0 = ct.plane_wave(lat, 0.125)
        >>> t1 = H.apply_affine(t0, np.empty_like(t0), 1 / a, -b / a)
        >>> H.chebyshev_step(t1, t0, 2 / a, -2 * b / a)      # t0 <- T_2 psi
        >>> x = np.cos(np.pi / 4)
        >>> bool(np.allclose(t0, (2 * x**2 - 1) * ct.plane_wave(lat, 0.125)))
        True
        """
        if acc is None:
            acc, c_acc = prev, 0.0
        self.chebyshev_steps(psi, prev, c_h, c_id, acc, (c_acc,))

    def chebyshev_steps(self, psi, prev, c_h, c_id, acc, coeffs):
        """Several fused steps of a Chebyshev recursion in one sweep (kernel interface).

        Equal bit for bit to ``len(coeffs)`` calls of :meth:`chebyshev_step`, the two
        fields swapping roles at every step: ``chebyshev_step(psi, prev, c_h, c_id, acc,
        coeffs[0])``, ``chebyshev_step(prev, psi, c_h, c_id, acc, coeffs[1])``, ...
        Each step follows the one before through the box a plane behind it (in 3D; a
        row in 2D), while the rows it needs are still in cache, so the steps together
        cost about one pass over memory instead of one each (:func:`evolve` runs four
        at a time on fields of 2**16 sites or more, where that saves memory traffic).

        Parameters
        ----------
        psi, prev : numpy.ndarray of complex128, shape ``lattice.shape``, C-contiguous
            ``T_n psi_0`` and ``T_{n-1} psi_0``; both are overwritten and must not
            overlap each other or ``acc``. Afterwards the newest term, ``T_{n+k}``
            for ``k = len(coeffs)``, is in ``psi`` if ``k`` is even, in ``prev`` if
            it is odd, and the other field holds ``T_{n+k-1}``.
        c_h, c_id : float
        acc : numpy.ndarray of complex128
            The partial sum of the series (same shape); ``coeffs[s] T_{n+s+1}`` is
            added to it for each step s.
        coeffs : sequence of complex
            Coefficients of ``T_{n+1}, ..., T_{n+k}`` in the series (k >= 1).

        Examples
        --------
        >>> import numpy as np, chargetransport as ct
        >>> lat = Lattice(d=2, L=6)
        >>> H = AndersonHamiltonian(lat, 1.0, ct.random_potential(lat, seed=1))
        >>> rng = np.random.default_rng(0)
        >>> psi, prev = rng.standard_normal((2, 6, 6)) + 0j
        >>> p1, q1, acc1 = psi.copy(), prev.copy(), np.zeros_like(psi)
        >>> H.chebyshev_step(p1, q1, 0.5, 0.1, acc1, 0.3)
        >>> H.chebyshev_step(q1, p1, 0.5, 0.1, acc1, 0.2j)
        >>> H.chebyshev_step(p1, q1, 0.5, 0.1, acc1, -0.1)
        >>> acc2 = np.zeros_like(psi)
        >>> H.chebyshev_steps(psi, prev, 0.5, 0.1, acc2, [0.3, 0.2j, -0.1])
        >>> bool(acc1.tobytes() == acc2.tobytes() and prev.tobytes() == q1.tobytes())
        True
        """
        coeffs = np.asarray(coeffs, dtype=np.complex128).reshape(-1)
        _chebyshev_sweeps.chebyshev_steps(as_3d(psi), self._potential_3d, self.eta, c_h, c_id,
                                          as_3d(prev), as_3d(acc), coeffs, self._phases)

    def to_sparse(self):
        """``H`` as a ``scipy.sparse.csr_matrix`` acting on ``psi.ravel()``.

        Meant for cross-checks on small lattices (it is ~17x slower than
        :meth:`apply`). Row-major (C) ordering of the sites. On a twisted box the
        two corner entries of each axis carry ``exp(+-2 pi i theta_i)``.
        """
        L, d = self.lattice.L, self.lattice.d
        eye = sp.identity(L, format="csr")
        lap = sp.csr_matrix((L**d, L**d))
        for axis in range(d):
            theta = self.lattice.twist[axis]
            if theta == 0.0:
                shift = sp.diags([np.ones(L - 1), np.ones(L - 1), [1.0], [1.0]],
                                 [1, -1, L - 1, -(L - 1)], shape=(L, L), format="csr")
            else:
                # (S psi)(n) = psi(n + 1) with psi(L) = e^{2 pi i theta} psi(0), plus its adjoint
                phase = np.exp(2j * np.pi * theta)
                shift = sp.diags([np.ones(L - 1), np.ones(L - 1), [np.conj(phase)], [phase]],
                                 [1, -1, L - 1, -(L - 1)], shape=(L, L), format="csr")
            factors = [shift if a == axis else eye for a in range(d)]
            term = factors[0]
            for f in factors[1:]:
                term = sp.kron(term, f, format="csr")
            lap = lap + term
        return (lap + sp.diags(self.eta * self._potential.ravel())).tocsr().astype(np.complex128)
