"""Input checks shared by the public API.

Every public function validates at its entry and raises ``TypeError`` (wrong
kind of object) or ``ValueError`` (right kind, wrong value) with a message that
names the parameter and the allowed range, so that bad input never reaches a
Numba kernel.
"""
from __future__ import annotations

import math
import numbers
import os

import numpy as np

__all__ = []


def check_int(name, value, minimum=None, maximum=None):
    """Return ``value`` as a Python int, or raise with a message naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"'{name}' must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"'{name}' must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"'{name}' must be <= {maximum}, got {value}")
    return value


def check_real(name, value, minimum=None, maximum=None, *, strict_minimum=False):
    """Return ``value`` as a finite float, or raise with a message naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"'{name}' must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"'{name}' must be finite, got {value}")
    if minimum is not None:
        if strict_minimum and value <= minimum:
            raise ValueError(f"'{name}' must be > {minimum}, got {value}")
        if not strict_minimum and value < minimum:
            raise ValueError(f"'{name}' must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"'{name}' must be <= {maximum}, got {value}")
    return value


def check_real_array(name, value, *, ndim=None):
    """Return ``value`` as a float64 array of finite numbers."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise TypeError(f"'{name}' must be array-like of real numbers") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"'{name}' must contain real numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"'{name}' must be real, got complex dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"'{name}' must have {ndim} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"'{name}' must contain only finite numbers (no NaN or inf)")
    return arr


def _check_momentum(momentum, d, name="momentum"):
    """A momentum: a 1D array of ``d`` finite reals (any real values; e is 1-periodic)."""
    p = check_real_array(name, momentum, ndim=1)
    if p.shape != (d,):
        raise ValueError(f"'{name}' must have d = {d} components, got {p.shape[0]}")
    return p


def check_field(name, value, shape, dtype=np.complex128):
    """Check a lattice field: an ndarray of exactly ``shape`` and ``dtype``.

    Fields are not converted silently: a float array passed where a complex
    wave function is expected is a ``TypeError``, because converting would hide
    a copy in a hot loop.
    """
    if not isinstance(value, np.ndarray):
        raise TypeError(f"'{name}' must be a numpy.ndarray of dtype {np.dtype(dtype).name}, "
                        f"got {type(value).__name__}")
    if value.dtype != dtype:
        raise TypeError(f"'{name}' must have dtype {np.dtype(dtype).name}, got {value.dtype}")
    if value.shape != tuple(shape):
        raise ValueError(f"'{name}' must have shape {tuple(shape)} (the lattice shape), "
                         f"got {value.shape}")
    return value


def check_instance(name, value, cls):
    """Return ``value`` if it is an instance of ``cls``, else raise ``TypeError`` naming ``name``."""
    if not isinstance(value, cls):
        names = " or ".join(f"{c.__module__.split('.')[0]}.{c.__name__}"
                            for c in (cls if isinstance(cls, tuple) else (cls,)))
        raise TypeError(f"'{name}' must be a {names}, got {type(value).__name__}")
    return value


def check_bool(name, value):
    """Return ``value`` as a bool; only ``True``/``False`` (or NumPy bools) are accepted.

    Strings such as ``"yes"`` are rejected rather than read as true.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"'{name}' must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def check_finite_field(name, value):
    """Raise ``ValueError`` if a field contains NaN or inf (one pass over memory).

    The rule of the package: public entry points reject non-finite fields; the
    Numba kernels behind them stay unchecked.
    """
    if not np.all(np.isfinite(value)):
        raise ValueError(f"'{name}' must contain only finite numbers (no NaN or inf)")
    return value


def _read_int(path):
    try:
        with open(path) as fh:
            text = fh.read().strip()
    except OSError:
        return None
    if not text or text == "max":
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    # cgroup v1 reports "no limit" as a huge page-aligned number
    return value if value < 1 << 60 else None


def _cgroup_memory_headroom(root="/"):
    """Bytes the process's cgroup still allows (limit - usage), or None without a limit.

    Containers (Binder, Colab, CI) cap memory with a cgroup while /proc/meminfo shows the
    host's memory: v2 ``memory.max``/``memory.current``, v1 ``memory.limit_in_bytes``/
    ``memory.usage_in_bytes``. ``root`` is the file-system root under which
    ``proc/self/cgroup`` and ``sys/fs/cgroup`` are read (tests give a fake tree).
    """
    paths = []
    try:
        with open(os.path.join(root, "proc/self/cgroup")) as fh:
            for line in fh:
                parts = line.strip().split(":", 2)
                if len(parts) == 3 and (parts[1] == "" or "memory" in parts[1].split(",")):
                    paths.append((parts[1] == "", parts[2]))
    except OSError:
        return None
    best = None
    for v2, rel in paths:
        mount = os.path.join(root, "sys/fs/cgroup" if v2 else "sys/fs/cgroup/memory")
        rel = rel.rstrip("/")
        limit_name, usage_name = (("memory.max", "memory.current") if v2 else
                                  ("memory.limit_in_bytes", "memory.usage_in_bytes"))
        # walk up the hierarchy: a parent's limit binds too
        while True:
            limit = _read_int(f"{mount}{rel}/{limit_name}")
            if limit is not None:
                usage = _read_int(f"{mount}{rel}/{usage_name}") or 0
                headroom = max(limit - usage, 0)
                best = headroom if best is None else min(best, headroom)
            if not rel:
                break
            rel = rel.rsplit("/", 1)[0]
    return best


def available_memory_bytes():
    """Memory the process may still allocate, in bytes.

    The smallest of: ``MemAvailable`` from /proc/meminfo (else total RAM), the
    headroom under the process's cgroup memory limit (v1 or v2), and the
    address-space limit ``RLIMIT_AS``.
    """
    available = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if available is None:
        try:
            available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
            available = 8 * 1024**3
    cgroup = _cgroup_memory_headroom()
    if cgroup is not None:
        available = min(available, cgroup)
    try:
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft not in (resource.RLIM_INFINITY, -1) and soft > 0:
            available = min(available, soft)
    except (ImportError, ValueError, OSError):  # pragma: no cover - non-POSIX
        pass
    return available


# Allocations this small are never refused by check_memory (any machine that runs
# the package has them).
_SMALL_BYTES = 64 * 1024**2


def check_memory(name, needed_bytes, what, hint=""):
    """Raise ``ValueError`` naming ``name`` if ``needed_bytes`` exceeds the available memory.

    Call before allocating, so that an absurd size is an error that names the
    parameter rather than a ``MemoryError`` (or a swap storm) later. Sizes up
    to 64 MiB pass without reading the system's limits (~0.2 ms), so the check
    costs nothing on small problems.
    """
    if needed_bytes <= _SMALL_BYTES:
        return
    available = available_memory_bytes()
    if needed_bytes > available:
        raise ValueError(f"'{name}' is too large: {what} needs about {format_bytes(needed_bytes)} "
                         f"but {format_bytes(available)} is available" + (f"; {hint}" if hint else ""))


def check_values_per_sample(name, values, n, per):
    """``values`` (a callback's output) as ``n`` finite floats, one per sample, or raise."""
    values = np.asarray(values, dtype=float)
    if values.shape != (n,) or not np.isfinite(values).all():
        raise ValueError(f"{name} must return {n} finite values, one per {per}, got shape "
                         f"{values.shape} (or non-finite values)")
    return values


def check_eta_squared(eta):
    """``eta > 0`` (a disorder strength) whose square does not underflow to 0."""
    eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
    if eta**2 < 1e-300:
        raise ValueError(f"'eta' = {eta} is too small: eta^2 underflows (use eta >= 1e-150)")
    return eta


def format_bytes(n):
    """Human-readable byte count."""
    try:
        n = float(n)
    except OverflowError:           # an int beyond a float: the message must still be made
        return "more than 1e308 B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"  # pragma: no cover
