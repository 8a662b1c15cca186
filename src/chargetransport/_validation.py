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


def available_memory_bytes():
    """Memory the process may still use: MemAvailable from /proc, else total RAM."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 1024**3


def format_bytes(n):
    """Human-readable byte count."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"  # pragma: no cover
