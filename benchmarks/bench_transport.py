"""Transport-kernel benchmarks: measured against references in the same run (machines are noisy).

Prints, for this machine:

* the 1D transfer-matrix Lyapunov exponent (``ct.lyapunov_exponent``) in ns per step for
  the three disorder laws, next to the cost of drawing the same numbers with NumPy's
  ``Generator`` alone: the draw is the floor for one energy (target <= 5 ns/step), and
  an array of energies along the same chain amortises it;
* a MacKinnon-Kramer bar (d = 3, M = 8) in microseconds per slice, against a plain
  NumPy implementation (matrix products and ``numpy.linalg.qr`` every slice);
* the exact energy-shell sampler (ns per sample and proposals per sample, d = 2 and 3) and
  the kinetic Monte Carlo kernel of the linear Boltzmann equation (collisions per second,
  one core, collision-dominated run; target 1e7/s in d = 2 and 3), each against the
  previous implementation (the d = 3 chart sampler, acceptance 26% at E = 1), kept here
  as the reference and nowhere else, and ``rng.random`` per number;
* the agreement of the two kinetic Monte Carlo solvers on a d = 3 problem (observables at
  three times, in combined standard errors), and that they are identical in d = 2.

Run: ``python benchmarks/bench_transport.py`` (about two minutes on 2 cores);
``--only kmc`` for the kinetic Monte Carlo part alone.
"""
from __future__ import annotations

import argparse
import contextlib
import time

import numba as nb
import numpy as np

import chargetransport as ct
from chargetransport import boltzmann as bz
from chargetransport import strip_transfer_matrix as stm
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
        "package": lambda: stm.strip_lyapunov_exponents(0.0, M, n_slices, d=3, eta=eta, seed=2),
        "numpy": lambda: _numpy_bar(0.0, eta, M, n_slices, np.random.default_rng(2)),
    }
    best = best_times(fns, repeat)
    return {k: 1e6 * v / n_slices for k, v in best.items()}


# --------------------------------------------------------------------------------------
# Reference: the kinetic Monte Carlo kernel and shell sampler before the outer-marginal
# d = 3 sampler (verbatim but for the proposal counter; d <= 2 draws are unchanged since).
# --------------------------------------------------------------------------------------
def _reference_min_gradient_on_shell(E, d):
    """min over the shell e = E of sum_i sin^2(2 pi u_i) = d - max sum_i eps_i^2 / 4 (vertices)."""
    best = -np.inf
    for plus in range(d):
        for minus in range(d - plus):
            free = E - 2.0 * plus + 2.0 * minus
            rest = d - plus - minus
            if rest >= 1 and abs(free) <= 2.0 and rest - 1 == 0:
                best = max(best, 4.0 * (plus + minus) + free**2)
    for plus in range(d + 1):
        if abs(E - (2.0 * plus - 2.0 * (d - plus))) < 1e-15:
            best = max(best, 4.0 * d)
    return d - best / 4.0


def _reference_shell_bound(E, d):
    """Rejection bound of the reference d = 3 chart sampler."""
    return 0.5 / np.sqrt(_reference_min_gradient_on_shell(E, d)) * (1.0 + 1e-12)


@nb.njit
def _reference_sample_shell(E, d, bound, rng, theta, out, vel):
    """Reference shell sampler: d = 2 as now; d = 3 by three charts of a partition of unity
    w_j = sin^2 theta_j / sum_i sin^2 theta_i, proposals uniform in the angles, accepted with
    probability h_j / bound. Returns the number of proposals."""
    proposals = 1
    if d == 1:
        out[0] = 0.5 * E
    elif d == 2:
        F = abs(E)
        a = F - 2.0
        gmax = 1.0 / np.sqrt(4.0 * F)
        while True:
            x = 0.5 * (a + 2.0) + 0.5 * (2.0 - a) * np.cos(np.pi * rng.random())
            g = 1.0 / np.sqrt((2.0 + x) * (2.0 + F - x))
            if rng.random() * gmax <= g:
                break
            proposals += 1
        sign = 1.0 if E > 0 else -1.0
        out[0] = 0.5 * sign * x
        out[1] = 0.5 * sign * (F - x)
    else:
        while True:
            j = int(rng.random() * d)
            rest = E
            sum_sin2 = 0.0
            for i in range(d):
                if i != j:
                    c = np.cos(np.pi * rng.random())
                    theta[i] = c
                    rest -= 2.0 * c
                    sum_sin2 += 1.0 - c * c
            c = 0.5 * rest
            if c < -1.0 or c > 1.0:
                proposals += 1
                continue
            theta[j] = c
            sin2_j = 1.0 - c * c
            sum_sin2 += sin2_j
            if rng.random() * bound * 2.0 * sum_sin2 <= np.sqrt(sin2_j):
                break
            proposals += 1
        for i in range(d):
            out[i] = theta[i]
    for i in range(d):
        c = min(1.0, max(-1.0, out[i]))
        u = np.arccos(c) / (2.0 * np.pi)
        speed = 2.0 * np.sqrt(1.0 - c * c)
        if rng.random() < 0.5:
            out[i], vel[i] = u, -speed
        else:
            out[i], vel[i] = 1.0 - u, speed
    return proposals


@nb.njit
def _reference_sample_shell_many(E, d, bound, rng, n):
    out = np.empty((n, d))
    theta = np.empty(d)
    row = np.empty(d)
    vel = np.empty(d)
    proposals = 0
    for k in range(n):
        proposals += _reference_sample_shell(E, d, bound, rng, theta, row, vel)
        out[k] = row
    return out, proposals


@nb.njit
def _reference_kmc_chunk(X, V, rates, bounds, energies, times, rng, X_out, V_out):
    """Reference kernel: V redrawn (one arccos per axis) at every collision."""
    n, d = X.shape
    theta = np.empty(d)
    newv = np.empty(d)
    vel = np.empty(d)
    collisions = 0
    for p in range(n):
        for i in range(d):
            vel[i] = -2.0 * np.sin(2.0 * np.pi * V[p, i])
        t = 0.0
        for j in range(times.size):
            while True:
                tau = -np.log(1.0 - rng.random()) / rates[p]
                if t + tau >= times[j]:
                    dt = times[j] - t
                    for i in range(d):
                        X[p, i] += vel[i] * dt
                    t = times[j]
                    break
                for i in range(d):
                    X[p, i] += vel[i] * tau
                t += tau
                _reference_sample_shell(energies[p], d, bounds[p], rng, theta, newv, vel)
                for i in range(d):
                    V[p, i] = newv[i]
                collisions += 1
            for i in range(d):
                X_out[j, p, i] = X[p, i]
                V_out[j, p, i] = V[p, i]
    return collisions


def _reference_kernel(X, V, energies, rates, times, rng, X_out, V_out):
    """The reference kernel behind the package kernel's signature (bounds per energy)."""
    unique_E, inverse = np.unique(np.round(energies, 12), return_inverse=True)
    d = X.shape[1]
    bounds = np.array([_reference_shell_bound(e, d) for e in unique_E])[inverse]
    return _reference_kmc_chunk(X, V, rates, bounds, energies, times, rng, X_out, V_out)


@contextlib.contextmanager
def reference_solver():
    """``bz.kinetic_monte_carlo`` runs the reference kernel inside this block."""
    package_kernel = bz._kmc_chunk
    bz._kmc_chunk = _reference_kernel
    try:
        yield
    finally:
        bz._kmc_chunk = package_kernel


# --------------------------------------------------------------------------------------
def bench_collisions(num_particles, T, repeat, E=1.0):
    """Kinetic Monte Carlo kernel (collisions/s) and shell sampler (ns/sample, proposals/sample),
    package vs reference, d = 2 and 3, interleaved; plus ``rng.random`` ns/number."""
    out = {}
    times = np.array([T])
    for d in (2, 3):
        V0 = ct.shell_sampling.sample_energy_shell(E, d, num_particles, seed=0)
        energies = ct.dispersion(V0)
        rates = bz.collision_rate(energies, d)
        bounds = np.full(num_particles, _reference_shell_bound(E, d))
        X_out, V_out = np.empty((1, num_particles, d)), np.empty((1, num_particles, d))

        def new(V0=V0, energies=energies, rates=rates, X_out=X_out, V_out=V_out):
            return bz._kmc_chunk(np.zeros_like(V0), V0.copy(), energies, rates, times,
                                 np.random.default_rng(1), X_out, V_out)

        def old(V0=V0, energies=energies, rates=rates, bounds=bounds, X_out=X_out, V_out=V_out):
            return _reference_kmc_chunk(np.zeros_like(V0), V0.copy(), rates, bounds, energies,
                                        times, np.random.default_rng(1), X_out, V_out)
        n_samples = num_particles
        fns = {"kmc new": new, "kmc old": old,
               "shell new": lambda d=d: ct.shell_sampling._sample_shell_many(
                   E, d, np.random.default_rng(2), n_samples),
               "shell old": lambda d=d: _reference_sample_shell_many(
                   E, d, _reference_shell_bound(E, d), np.random.default_rng(2), n_samples)}
        collisions = {"kmc new": new(), "kmc old": old()}
        proposals = {"shell new": fns["shell new"]()[1], "shell old": fns["shell old"]()[1]}
        best = best_times(fns, repeat)
        cpu = best_times(fns, repeat, clock=time.process_time)
        for key in ("kmc new", "kmc old"):
            out[f"{key} d={d}"] = collisions[key] / best[key]
            out[f"{key} d={d} cpu"] = collisions[key] / cpu[key]
        for key in ("shell new", "shell old"):
            out[f"{key} d={d}"] = 1e9 * best[key] / n_samples
            out[f"{key} d={d} acceptance"] = n_samples / proposals[key]
    rng = np.random.default_rng(0)
    rng.random(1_000_000)
    t0 = time.perf_counter()
    rng.random(4_000_000)
    out["rng.random"] = 1e9 * (time.perf_counter() - t0) / 4_000_000
    return out


def compare_solvers(num_particles):
    """Package vs reference kinetic Monte Carlo: d = 3 observables in combined standard errors
    (independent seeds), and whether d = 2 runs are identical (same seed)."""
    p = np.array([0.11, 0.23, 0.37])
    q = np.array([0.37, 0.11, 0.23])           # a permutation of p: on its shell

    def initial(n, rng, p=p):
        return np.zeros((n, len(p))), np.tile(p, (n, 1))
    eps = lambda V, i: 2 * np.cos(2 * np.pi * V[:, i])          # noqa: E731
    tests = {"survival": lambda X, V: np.all(V == p, axis=1).astype(float),
             "|X|^2": lambda X, V: (X**2).sum(axis=1),
             "v_1": lambda X, V: -2 * np.sin(2 * np.pi * V[:, 0]),
             "|v|^2": lambda X, V: (4 * np.sin(2 * np.pi * V) ** 2).sum(axis=1),
             "eps_1 eps_3": lambda X, V: eps(V, 0) * eps(V, 2),
             "eps_2^2": lambda X, V: eps(V, 1) ** 2,
             "bump at q": lambda X, V: ct.relaxation_prediction.momentum_bump(V, q, 0.1)}
    T = [0.3, 1.0, 3.0]
    new = bz.kinetic_monte_carlo(initial, T, list(tests.values()), num_particles, seed=11)
    with reference_solver():
        old = bz.kinetic_monte_carlo(initial, T, list(tests.values()), num_particles, seed=12)
    z = (new.estimates - old.estimates) / np.hypot(new.standard_errors, old.standard_errors)
    p2 = np.array([0.11, 0.23])

    def initial2(n, rng):
        return rng.standard_normal((n, 2)), np.tile(p2, (n, 1))
    same2 = bz.kinetic_monte_carlo(initial2, T, [tests["|X|^2"]], num_particles // 4, seed=3)
    with reference_solver():
        ref2 = bz.kinetic_monte_carlo(initial2, T, [tests["|X|^2"]], num_particles // 4, seed=3)
    return dict(zip(tests, z)), bool(np.array_equal(same2.estimates, ref2.estimates))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2**23)
    parser.add_argument("--bar-M", type=int, default=8)
    parser.add_argument("--bar-slices", type=int, default=2000)
    parser.add_argument("--particles", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("all", "kmc"), default="all")
    args = parser.parse_args(argv)

    if args.only == "all":
        ns = bench_lyapunov(args.steps, args.repeat)
        for dist in ("gaussian", "uniform", "bernoulli"):
            print(f"1D chain, {dist:9s}, one energy : {ns[f'{dist} chain']:6.2f} ns/step "
                  f"(NumPy draw alone {ns[f'{dist} draw']:5.2f} ns/number)")
        print(f"1D chain, gaussian, 32 energies  : {ns['gaussian chain, 32 energies'] / 32:6.2f} "
              f"ns/step/energy")

        us = bench_bar(args.bar_M, args.bar_slices, args.repeat)
        print(f"3D bar M={args.bar_M}, W=16.5             : {us['package']:7.1f} us/slice; NumPy "
              f"reference {us['numpy']:7.1f} us/slice ({us['numpy'] / us['package']:4.1f}x slower)")

    kmc = bench_collisions(args.particles, T=20.0, repeat=args.repeat)
    print(f"rng.random                       : {kmc['rng.random']:6.2f} ns/number")
    for d in (2, 3):
        for key in ("new", "old"):
            ns, rate = kmc[f"shell {key} d={d}"], kmc[f"shell {key} d={d} acceptance"]
            print(f"shell sampler d={d}, E=1, {key}      : {ns:6.1f} ns/sample, "
                  f"acceptance {rate:.3f}")
        new, old = kmc[f"kmc new d={d}"], kmc[f"kmc old d={d}"]
        new_cpu, old_cpu = kmc[f"kmc new d={d} cpu"], kmc[f"kmc old d={d} cpu"]
        print(f"kinetic Monte Carlo d={d}, E=1     : {new:.3g} collisions/s, reference {old:.3g} "
              f"({new / old:.2f}x; one core, best of {args.repeat}; target 1e7); per CPU "
              f"second {new_cpu:.3g}, reference {old_cpu:.3g} ({new_cpu / old_cpu:.2f}x)")
    z, identical = compare_solvers(args.particles)
    worst = max(z, key=lambda k: np.abs(z[k]).max())
    print(f"d = 3 package vs reference, T = 0.3, 1, 3: max |z| = {np.abs(z[worst]).max():.2f} "
          f"({worst}) over {len(z)} observables; d = 2 runs identical: {identical}")
    for name, values in z.items():
        print(f"    {name:12s} z = " + "  ".join(f"{v:+.2f}" for v in values))


if __name__ == "__main__":
    main()
