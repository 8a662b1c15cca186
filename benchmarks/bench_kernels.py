"""Kernel benchmarks: measured against references in the same run (machines are noisy).

Prints, for this machine:

* a STREAM-like triad ``a = b + s c`` (Numba, parallel): the memory bandwidth bar;
* ``H.apply`` on a 3D L = 128 lattice in ns/site and as a fraction of the triad
  bandwidth, counting 40 bytes/site (read psi 16, read V 8, write 16);
* scipy's CSR matvec of the same H, and the speed-up of ``apply`` over it;
* ``evolve`` vs ``scipy.sparse.linalg.expm_multiply`` on a 3D L = 48 lattice,
  both measured against a tight reference so they are compared at equal accuracy.

Run: ``python benchmarks/bench_kernels.py`` (about a minute on 2 cores).
"""
from __future__ import annotations

import argparse
import time

import numba as nb
import numpy as np
import scipy.sparse.linalg as sla

import chargetransport as ct


@nb.njit(parallel=True, cache=True)
def _triad(a, b, c, s):
    for i in nb.prange(a.size):
        a[i] = b[i] + s * c[i]


def best_times(fns, repeat, clock=time.perf_counter):
    """Best wall time of each callable, the calls interleaved round-robin.

    Interleaving exposes every candidate to the same background load, so the
    ratios between them stay meaningful on a noisy shared machine. ``clock`` may
    be ``time.process_time`` (CPU time of the process: not counting the time the
    run waits for a core, for single-threaded kernels).
    """
    for fn in fns.values():
        fn()  # warm-up: compilation, page faults
    best = dict.fromkeys(fns, np.inf)
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = clock()
            fn()
            best[name] = min(best[name], clock() - t0)
    return best


def bench_apply(L, repeat):
    """ns/site of the triad, H.apply and the CSR matvec, measured interleaved."""
    lat = ct.Lattice(d=3, L=L)
    H = ct.AndersonHamiltonian(lat, 0.3, ct.random_potential(lat, seed=0))
    rng = np.random.default_rng(1)
    psi = rng.standard_normal(lat.shape) + 1j * rng.standard_normal(lat.shape)
    out = np.empty_like(psi)
    A = H.to_sparse()
    v = psi.ravel()
    n = lat.num_sites
    # triad arrays as large as the stencil's fields (8 MiB per 2^20 sites)
    ta, tb, tc = np.zeros(2 * n), np.ones(2 * n), np.full(2 * n, 2.0)
    best = best_times({"triad": lambda: _triad(ta, tb, tc, 3.0),
                       "apply": lambda: H.apply(psi, out=out),
                       "csr": lambda: A @ v}, repeat)
    return n, 24.0 * 2 * n / best["triad"], best["apply"], best["csr"]


def bench_evolve(L, t, repeat):
    """evolve vs expm_multiply at equal accuracy (errors against a tight reference)."""
    lat = ct.Lattice(d=3, L=L)
    H = ct.AndersonHamiltonian(lat, 0.3, ct.random_potential(lat, seed=0))
    psi0 = ct.gaussian_wave_packet(lat, center=(0, 0, 0), width=4.0, momentum=(0.2, 0.1, 0.0))
    A = -1j * t * H.to_sparse()
    # expm_multiply has no tolerance argument: it works to double precision.
    # evolve is asked for the same (tol 1e-13), and both errors are printed.
    tol = 1e-13
    results = {}
    best = best_times({
        "evolve": lambda: results.__setitem__("evolve", ct.evolve(H, psi0, t=t, tol=tol)),
        "expm_multiply": lambda: results.__setitem__(
            "expm_multiply", sla.expm_multiply(A, psi0.ravel()).reshape(lat.shape)),
    }, repeat)
    ref = ct.evolve(H, ct.evolve(H, psi0, t=t / 2, tol=1e-14), t=t / 2, tol=1e-14)
    errors = {k: float(np.linalg.norm(v - ref)) for k, v in results.items()}
    return best, errors, ct.chebyshev_num_terms(H, t, tol)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apply-L", type=int, default=128)
    parser.add_argument("--evolve-L", type=int, default=48)
    parser.add_argument("--time", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    print(f"numba threads: {nb.get_num_threads()}")
    n_sites, bw, t_apply, t_csr = bench_apply(args.apply_L, args.repeat)
    apply_bw = 40.0 * n_sites / t_apply
    print(f"triad bandwidth                 : {bw / 1e9:7.2f} GB/s")
    print(f"H.apply 3D L={args.apply_L:<4d}              : {1e9 * t_apply / n_sites:7.3f} ns/site, "
          f"{apply_bw / 1e9:6.2f} GB/s = {100 * apply_bw / bw:5.1f}% of triad (40 B/site)")
    print(f"scipy CSR matvec                : {1e9 * t_csr / n_sites:7.3f} ns/site; "
          f"apply is {t_csr / t_apply:5.1f}x faster")

    best, errors, nterms = bench_evolve(args.evolve_L, args.time, max(2, args.repeat // 2))
    print(f"evolve 3D L={args.evolve_L}, t={args.time:g} ({nterms} terms)  : "
          f"{best['evolve']:7.3f} s, error {errors['evolve']:.1e}")
    print(f"expm_multiply same problem      : {best['expm_multiply']:7.3f} s, "
          f"error {errors['expm_multiply']:.1e}; evolve is "
          f"{best['expm_multiply'] / best['evolve']:5.1f}x faster")


if __name__ == "__main__":
    main()
