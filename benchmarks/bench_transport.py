"""Transport-kernel benchmarks: measured against references in the same run (machines are noisy).

Prints, for this machine:

* the 1D transfer-matrix Lyapunov exponent (``ct.lyapunov_exponent``) in ns per step for
  the three disorder laws, next to the cost of drawing the same numbers with NumPy's
  ``Generator`` alone: the draw is the floor for one energy (target <= 5 ns/step), and
  an array of energies along the same chain amortises it;
* a MacKinnon-Kramer bar (d = 3, M = 8) in microseconds per slice, against a plain
  NumPy implementation (matrix products and ``numpy.linalg.qr`` every slice);
* the exact energy-shell sampler (ns per sample, d = 2 and 3) and the kinetic Monte
  Carlo solver of the linear Boltzmann equation (collisions per second, one core,
  collision-dominated run; target 1e7/s), against ``rng.random`` per number.

Run: ``python benchmarks/bench_transport.py`` (about a minute on 2 cores).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import chargetransport as ct
from chargetransport import boltzmann as bz
from chargetransport import transfer_matrix as tm

from bench_kernels import best_times


def bench_lyapunov(n_steps, repeat):
    """ns/step of the 1D chain (1 and 32 energies) and ns/number of NumPy's draw."""
    rng = np.random.default_rng(0)
    energies = np.linspace(-1.6, 1.6, 32)
    fns = {}
    for dist, draw in (("gaussian", lambda: rng.standard_normal(n_steps)),
                       ("uniform", lambda: rng.random(n_steps)),
                       ("bernoulli", lambda: rng.integers(0, 2, n_steps, dtype=np.int8))):
        fns[f"{dist} chain"] = lambda d=dist: tm.lyapunov_exponent(1.0, 0.1, n_steps, d, seed=1)
        fns[f"{dist} draw"] = draw
    fns["gaussian chain, 32 energies"] = lambda: tm.lyapunov_exponent(energies, 0.1, n_steps,
                                                                      seed=1)
    best = best_times(fns, repeat)
    return {k: 1e9 * v / n_steps for k, v in best.items()}


def _numpy_bar(E, eta, M, n_slices, rng):
    """Reference MacKinnon-Kramer bar: dense transfer step and QR every slice."""
    N = M * M
    idx = np.arange(N).reshape(M, M)
    hop = np.zeros((N, N))
    for shift, axis in ((1, 0), (-1, 0), (1, 1), (-1, 1)):
        hop[idx.ravel(), np.roll(idx, shift, axis=axis).ravel()] = 1.0
    Q = np.eye(2 * N)[:, :N]
    logs = np.zeros(N)
    for _ in range(n_slices):
        A = E * np.eye(N) - hop - eta * np.diag(rng.standard_normal(N))
        Q = np.vstack([A @ Q[:N] - Q[N:], Q[:N]])
        Q, R = np.linalg.qr(Q)
        logs += np.log(np.abs(np.diag(R)))
    return logs / n_slices


def bench_bar(M, n_slices, repeat):
    """Microseconds per slice: the package's bar vs the NumPy reference."""
    eta = tm.box_disorder_eta(16.5)
    fns = {
        "package": lambda: tm.strip_lyapunov_exponents(0.0, M, n_slices, d=3, eta=eta, seed=2),
        "numpy": lambda: _numpy_bar(0.0, eta, M, n_slices, np.random.default_rng(2)),
    }
    best = best_times(fns, repeat)
    return {k: 1e6 * v / n_slices for k, v in best.items()}


def bench_collisions(num_particles, T):
    """Collisions/s of the kinetic Monte Carlo kernel (d = 2, 3) and ns/sample of the shell sampler."""
    out = {}
    for d, E in ((2, 1.0), (3, 1.0)):
        def initial(n, rng, d=d, E=E):
            return np.zeros((n, d)), ct.shells.sample_energy_shell(E, d, n, seed=rng)
        bz.kinetic_monte_carlo(initial, [T], [lambda X, V: X[:, 0]], 1000, seed=0)  # compile
        runs = [bz.kinetic_monte_carlo(initial, [T], [lambda X, V: X[:, 0]], num_particles,
                                       seed=1) for _ in range(2)]
        out[f"kmc d={d}"] = max(r.collisions_per_second for r in runs)
        ct.shells.sample_energy_shell(E, d, 1000, seed=0)
        t0 = time.perf_counter()
        ct.shells.sample_energy_shell(E, d, 1_000_000, seed=0)
        out[f"shell d={d}"] = 1e9 * (time.perf_counter() - t0) / 1_000_000
    rng = np.random.default_rng(0)
    rng.random(1_000_000)
    t0 = time.perf_counter()
    rng.random(4_000_000)
    out["rng.random"] = 1e9 * (time.perf_counter() - t0) / 4_000_000
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2**23)
    parser.add_argument("--bar-M", type=int, default=8)
    parser.add_argument("--bar-slices", type=int, default=2000)
    parser.add_argument("--particles", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    ns = bench_lyapunov(args.steps, args.repeat)
    for dist in ("gaussian", "uniform", "bernoulli"):
        print(f"1D chain, {dist:9s}, one energy : {ns[f'{dist} chain']:6.2f} ns/step "
              f"(NumPy draw alone {ns[f'{dist} draw']:5.2f} ns/number)")
    print(f"1D chain, gaussian, 32 energies  : {ns['gaussian chain, 32 energies'] / 32:6.2f} "
          f"ns/step/energy")

    us = bench_bar(args.bar_M, args.bar_slices, args.repeat)
    print(f"3D bar M={args.bar_M}, W=16.5             : {us['package']:7.1f} us/slice; NumPy "
          f"reference {us['numpy']:7.1f} us/slice ({us['numpy'] / us['package']:4.1f}x slower)")

    kmc = bench_collisions(args.particles, T=20.0)
    print(f"rng.random                       : {kmc['rng.random']:6.2f} ns/number")
    for d in (2, 3):
        print(f"shell sampler d={d}, E=1           : {kmc[f'shell d={d}']:6.1f} ns/sample")
        print(f"kinetic Monte Carlo d={d}, E=1     : {kmc[f'kmc d={d}']:.3g} collisions/s "
              f"(one core; target 1e7)")


if __name__ == "__main__":
    main()
