"""The command line of the production studies: ``python -m chargetransport.studies``.

``list``, ``run``, ``show`` and ``verify`` (see :mod:`chargetransport.studies`, which
runs :func:`main` when executed as a module) over the registered studies, which extend
the experiments of sections 2-6 of Chen's lectures beyond the book's budget.
"""
from __future__ import annotations

import argparse
import sys
import time

from ._study_sessions import _locked
from ._study_storage import (PROVENANCE, _file_sizes, _read_json, _short_parameters,
                             _study_directory, default_out, format_provenance)
from ._validation import format_bytes
from .studies import (_qualified_name, get_study, run_study, stored_studies, study_names,
                      verify_study)

__all__ = ["main"]


def _show(name, out):
    study = get_study(name)
    directory = _study_directory(study, out)
    print(f"{study.name}: {study.description}\n  extends {study.extends}")
    print(f"  {_qualified_name(study.function)}({_short_parameters(study.parameters)})")
    print(f"  seed {study.seed}, {study.num_realizations} realizations, chunk_size "
          f"{study.chunk_size}, keys {list(study.keys) if study.keys else 'all'}")
    if not (directory / PROVENANCE).is_file():
        print(f"  nothing stored in {directory}")
        return
    provenance = _read_json(directory / PROVENANCE)
    print("\n" + format_provenance(provenance) + "\n")
    for i, s in enumerate(provenance["sessions"]):
        if s["status"] == "running" and not _locked(directory):
            s["status"] = "interrupted (no end recorded)"
        extra = (f", {s.get('chunks_computed')} chunks computed, {s.get('chunks_resumed')} read"
                 if s["status"] == "completed" else "")
        cpu = (s["machine"].get("instruction_set") or {}).get("llvm_cpu", "cpu not recorded")
        print(f"  session {i}: {s['status']}, {s['num_realizations']} realizations, "
              f"{s['started']} - {s['ended']}, {s['machine']['hostname']} ({cpu}), "
              f"{s.get('executor', {}).get('used') or s.get('executor', {}).get('requested')}"
              f"{extra}")
    sizes = _file_sizes(directory)
    print(f"  {len(sizes)} files, {format_bytes(sum(sizes.values()))}, largest "
          f"{format_bytes(max(sizes.values()))}")


def main(argv=None):
    """The command line (``python -m chargetransport.studies --help``); returns the exit code.

    Examples
    --------
    >>> import contextlib, io
    >>> with contextlib.redirect_stdout(io.StringIO()) as listing:
    ...     code = main(["list"])
    >>> code, "relaxation_2d_eta0.2 (stored): Plane-wave relaxation" in listing.getvalue()
    (0, True)
    """
    parser = argparse.ArgumentParser(
        prog="python -m chargetransport.studies",
        description="Named ensembles beyond the book's budget, stored with provenance.")
    sub = parser.add_subparsers(dest="command", required=True)
    out_help = f"where studies are stored (default {default_out()})"
    sub.add_parser("list", help="the registered studies").add_argument("--out", help=out_help)
    run = sub.add_parser("run", help="compute a study, or resume or extend it")
    run.add_argument("study")
    run.add_argument("--executor", default="serial", choices=("serial", "processes", "dask"))
    run.add_argument("--max-workers", type=int)
    run.add_argument("--scheduler", help="address of a Dask scheduler, e.g. tcp://host:8786")
    run.add_argument("--realizations", type=int, help="realizations 0..N-1 (default the study's)")
    run.add_argument("--numba-threads", type=int)
    run.add_argument("--no-progress", action="store_true")
    run.add_argument("--out", help=out_help)
    show = sub.add_parser("show", help="a study's definition and provenance")
    show.add_argument("study")
    show.add_argument("--out", help=out_help)
    verify = sub.add_parser("verify", help="recompute stored realizations, compare bit for bit "
                                           "(to rounding on another instruction set)")
    verify.add_argument("study", nargs="?", help="default: every stored study")
    verify.add_argument("--realization", type=int, action="append", dest="realizations",
                        help="a realization to recompute (repeatable; default first and last)")
    verify.add_argument("--out", help=out_help)
    args = parser.parse_args(argv)
    try:
        return _command(args)
    except (ValueError, TypeError, FileNotFoundError, RuntimeError, ImportError) as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _command(args):
    if args.command == "list":
        stored = set(stored_studies(args.out))
        for name in study_names():
            study = get_study(name)
            print(f"{name}{' (stored)' if name in stored else ''}: {study.description}")
    elif args.command == "show":
        _show(args.study, args.out)
    elif args.command == "run":
        t0 = time.perf_counter()
        res = run_study(args.study, args.out, executor=args.executor,
                        max_workers=args.max_workers, scheduler=args.scheduler,
                        num_realizations=args.realizations, numba_threads=args.numba_threads,
                        progress=not args.no_progress)
        session = res.provenance["sessions"][-1]
        print(f"{res.name}: {res.num_realizations} realizations in {res.directory} "
              f"({session['chunks_computed']} chunks computed, {session['chunks_resumed']} read; "
              f"{time.perf_counter() - t0:.1f} s)")
    elif args.command == "verify":
        names = [args.study] if args.study else stored_studies(args.out)
        failed = False
        for name in names:
            for report in verify_study(name, args.out, realizations=args.realizations):
                failed |= not report["reproduced"]
                largest = f"largest difference {report['largest_difference']:.1e} of the scale"
                if report["identical"]:
                    verdict = "identical"
                elif report["reproduced"]:
                    verdict = f"equal to rounding (another instruction set; {largest})"
                else:
                    verdict = f"DIFFERS in {report['differing_keys']} ({largest})"
                print(f"{name}: realization {report['realization']} recomputed in "
                      f"{report['seconds']:.1f} s: {verdict}")
        return 1 if failed else 0
    return 0
