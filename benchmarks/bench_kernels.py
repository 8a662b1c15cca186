"""Kernel benchmarks: the stencils against a memory-bound reference, measured in one run.

For 3D boxes of side L = 128 and 256 and for 1 and 2 Numba threads, the calls
interleaved round-robin (machines are noisy, and interleaving exposes every
kernel to the same background load), best of ``--repeat``:

* ``apply``: ``H.apply_affine``, out = c_h H psi + c_id psi (reads psi and V,
  writes out: 40 bytes/site);
* ``stream``: a kernel that moves the same bytes with no neighbours,
  ``out = V psi``;
* ``cheb``: ``H.chebyshev_step``, the fused Chebyshev step prev <- c_h H psi +
  c_id psi - prev, acc += c prev (reads psi, V, prev, acc, writes prev, acc:
  88 bytes/site);
* ``stream88``: the same bytes with no neighbours, prev <- V psi - prev,
  acc += c prev;
* ``cheb4``: ``H.chebyshev_steps`` with four coefficients, what ``evolve`` runs (four
  steps in one sweep, each a plane behind the one before), time per step;
* the ratios ``stream / apply``, ``stream88 / cheb`` and ``stream88 / cheb4`` (1 = the
  stencil costs no more than moving its bytes).

Then, unless ``--no-scipy``: scipy's CSR matvec of the same H, and ``evolve``
against ``scipy.sparse.linalg.expm_multiply`` on a 3D L = 48 lattice at equal
accuracy.

Run: ``python benchmarks/bench_kernels.py`` (a few minutes on 2 cores; L = 256
needs about 1.2 GB).

Arithmetic or memory? ``--L 32 --threads 1`` runs the kernels on fields that nearly stay
in cache, where a sweep costs about its arithmetic. On the 2-core EPYC host of this
project (idle, 2026-12-02) one Chebyshev step took 2.1-2.4 ns/site there on one thread,
about what the same-bytes stream takes at L = 128 and 256 (1.8-2.5 ns/site), and 3.7-4.9
ns/site at L = 128 and 256: on one thread its arithmetic and its memory traffic add up
instead of overlapping, so one step per sweep stays at 0.43-0.6 of the stream (Numba's
complex arithmetic splits every complex vector into real and imaginary parts and merges
them again, which is most of that arithmetic). ``evolve`` therefore runs four steps per
sweep (``cheb4``): each step follows the one before a plane behind, on rows still in
cache, so four steps cost about one pass over memory. Two idle runs of that day,
interleaved with the rows above: 0.78-0.81 and 0.61-0.65 of the stream at L = 128 and
256 on one thread, 1.17-1.19 and 0.68-0.90 on two (one step per sweep in the same runs:
0.53-0.54, 0.43-0.49, 0.67-0.77, 0.47-0.65); in single runs of the sweep alone 0.52-0.56
at L = 256 on one thread, where the planes of 1 MB (and the 4 KiB rows, all at the same
address modulo 4 KiB) make even the cached steps slow. Two or three steps per sweep
gained less, eight little more than four; fields that stay in cache gain nothing, so
``evolve`` fuses only from 2**16 sites. ``apply`` is a single sweep, nothing to fuse:
0.54-0.60 of its stream on one thread, 0.51-0.73 on two, depending on the run (the
streams themselves vary by up to a factor 1.5 between runs on this host). Measured and
not kept, all bit-identical, against the kernels of the day in the same runs: blocking
axis 1 so that three planes of psi stay in L2 (0-7 % slower; for ``apply`` within the
noise); summing the neighbours on float views in a first pass (15-30 % slower), or on
float views with the real potential duplicated per block in L1 (20-40 % slower); fixing
the row ends after every 2048 sites instead of after every plane, and compiling the long
loops as separate functions (both within the noise, +-5 %); staggering the arrays by
different offsets modulo 4 KiB (3-5 %, within the noise). Software prefetch
(``llvm.prefetch`` 128-1024 sites ahead) made a copy of the long loop 25-50 % slower
than the same copy without it; with planar storage (real and imaginary parts in separate
arrays, which avoids the splitting but doubles the number of streams) the long loop
alone took 10-50 % longer than the whole current step at L = 32, 128 and 256.

On a second kind of 2-core host of this project, AMD EPYC Zen 3 (AVX2, no AVX-512; idle,
2026-12-02, two runs), every kernel is slower per site (the same-bytes stream 2.96-3.44
ns/site on one thread at L = 128 and 256, one Chebyshev step 7.2-8.0) but the ratios are
higher: ``apply`` 0.76-0.89 of its stream on one thread and 0.69-0.70 on two, one
Chebyshev step per sweep 0.67-0.76 and 0.70-0.86, ``cheb4`` 0.86-1.02 and 0.99-1.11 (memory
delivers fewer bytes per nanosecond there, so the stencil's arithmetic hides better behind
its memory traffic). The target of 0.6 is met there by every kernel; on
the Zen 4 host by ``cheb4`` and by ``apply`` on two threads, while ``apply`` on one
thread reaches 0.54-0.60.

Numba reads its thread count at start-up: the 2-thread
rows need ``NUMBA_NUM_THREADS >= 2`` (the default on a 2-core machine).
"""
from __future__ import annotations

import argparse
import os
import time

import numba as nb
import numpy as np
import scipy.sparse.linalg as sla

import chargetransport as ct


@nb.njit(cache=True, parallel=True)
def _stream_apply(psi, V, out, nchunks):
    p, v, o = psi.reshape(psi.size), V.reshape(V.size), out.reshape(out.size)
    for chunk in nb.prange(nchunks):
        lo, hi = chunk * p.size // nchunks, (chunk + 1) * p.size // nchunks
        pc, vc, oc = p[lo:hi], v[lo:hi], o[lo:hi]      # views from 0: loops vectorise
        for k in range(pc.size):
            oc[k] = vc[k] * pc[k]


@nb.njit(cache=True, parallel=True)
def _stream_chebyshev(psi, V, prev, acc, c_acc, nchunks):
    p, v = psi.reshape(psi.size), V.reshape(V.size)
    q, a = prev.reshape(prev.size), acc.reshape(acc.size)
    for chunk in nb.prange(nchunks):
        lo, hi = chunk * p.size // nchunks, (chunk + 1) * p.size // nchunks
        pc, vc, qc, ac = p[lo:hi], v[lo:hi], q[lo:hi], a[lo:hi]
        for k in range(pc.size):
            qc[k] = vc[k] * pc[k] - qc[k]
            ac[k] += c_acc * qc[k]


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


def bench_stencils(L, threads, repeat):
    """ns/site of apply, cheb and their same-bytes streams, interleaved."""
    lat = ct.Lattice(d=3, L=L)
    H = ct.AndersonHamiltonian(lat, 0.3, ct.random_potential(lat, seed=0))
    V = np.array(H.potential)          # a writable copy for the stream kernels
    rng = np.random.default_rng(1)
    psi = rng.standard_normal(lat.shape) + 1j * rng.standard_normal(lat.shape)
    out = np.empty_like(psi)
    prev = rng.standard_normal(lat.shape) + 1j * rng.standard_normal(lat.shape)
    acc = np.zeros_like(psi)
    a, b = H.spectral_rescaling()
    c_acc = 0.3 - 0.1j
    before = nb.get_num_threads()
    nb.set_num_threads(threads)
    try:
        best = best_times({
            "apply": lambda: H.apply_affine(psi, out, 1.0 / a, -b / a),
            "stream": lambda: _stream_apply(psi, V, out, threads),
            "cheb": lambda: H.chebyshev_step(psi, prev, 2.0 / a, -2.0 * b / a, acc, c_acc),
            "cheb4": lambda: H.chebyshev_steps(psi, prev, 2.0 / a, -2.0 * b / a, acc,
                                               [c_acc] * 4),
            "stream88": lambda: _stream_chebyshev(psi, V, prev, acc, c_acc, threads),
        }, repeat)
    finally:
        nb.set_num_threads(before)
    best["cheb4"] /= 4                 # per step
    return {k: 1e9 * v / lat.num_sites for k, v in best.items()}


def bench_csr(L, repeat):
    lat = ct.Lattice(d=3, L=L)
    H = ct.AndersonHamiltonian(lat, 0.3, ct.random_potential(lat, seed=0))
    rng = np.random.default_rng(1)
    psi = rng.standard_normal(lat.shape) + 1j * rng.standard_normal(lat.shape)
    out = np.empty_like(psi)
    A = H.to_sparse()
    v = psi.ravel()
    best = best_times({"apply": lambda: H.apply(psi, out=out), "csr": lambda: A @ v}, repeat)
    return {k: 1e9 * t / lat.num_sites for k, t in best.items()}


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
    parser.add_argument("--L", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--no-scipy", action="store_true", help="skip the CSR and expm_multiply rows")
    parser.add_argument("--evolve-L", type=int, default=48)
    parser.add_argument("--time", type=float, default=20.0)
    args = parser.parse_args(argv)

    threads = [n for n in args.threads if n <= nb.config.NUMBA_NUM_THREADS]
    _stream_apply(np.zeros((1, 1, 4), complex), np.zeros((1, 1, 4)), np.zeros((1, 1, 4), complex), 1)
    print(f"numba {nb.__version__}, threading layer {nb.threading_layer()}, "
          f"NUMBA_NUM_THREADS = {nb.config.NUMBA_NUM_THREADS}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("ns/site, best of", args.repeat, "(ratio = stream time / stencil time)")
    print(f"{'L':>4} {'thr':>3} | {'apply':>7} {'stream':>7} {'ratio':>5} | "
          f"{'cheb':>7} {'stream88':>8} {'ratio':>5} | {'cheb4':>7} {'ratio':>5}")
    for L in args.L:
        for n in threads:
            r = bench_stencils(L, n, args.repeat)
            print(f"{L:>4} {n:>3} | {r['apply']:7.3f} {r['stream']:7.3f} "
                  f"{r['stream'] / r['apply']:5.2f} | {r['cheb']:7.3f} {r['stream88']:8.3f} "
                  f"{r['stream88'] / r['cheb']:5.2f} | {r['cheb4']:7.3f} "
                  f"{r['stream88'] / r['cheb4']:5.2f}", flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.no_scipy:
        return
    r = bench_csr(args.L[0], args.repeat)
    print(f"scipy CSR matvec 3D L={args.L[0]}: {r['csr']:7.3f} ns/site; "
          f"H.apply (checked) {r['apply']:7.3f} ns/site, {r['csr'] / r['apply']:5.1f}x faster")
    best, errors, nterms = bench_evolve(args.evolve_L, args.time, max(2, args.repeat // 3))
    print(f"evolve 3D L={args.evolve_L}, t={args.time:g} ({nterms} terms)  : "
          f"{best['evolve']:7.3f} s, error {errors['evolve']:.1e}")
    print(f"expm_multiply same problem      : {best['expm_multiply']:7.3f} s, "
          f"error {errors['expm_multiply']:.1e}; evolve is "
          f"{best['expm_multiply'] / best['evolve']:5.1f}x faster")


if __name__ == "__main__":
    main()
