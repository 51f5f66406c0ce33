"""Command line: ``python -m fastinit bench`` prints the speed table against NumPy (and torch
when installed); ``dashboard`` turns saved benchmark JSON into an HTML page; ``info`` prints
the setup."""
from __future__ import annotations

import argparse
import sys


def _bench(args: argparse.Namespace) -> int:
    from . import _bench

    nbytes = int(args.mib * 2**20)
    rows, labels, ceiling = _bench.run_short(nbytes, args.repeat, with_torch=not args.no_torch)
    print(_bench.format_short(rows, labels, ceiling, nbytes))
    if not args.no_torch and "torch" not in labels:
        print("\n(torch is not installed: install it to add its column)")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    from . import _dashboard

    try:
        runs = _dashboard.load_runs(args.inputs or [_dashboard.DEFAULT_RESULTS])
        html = _dashboard.render(runs)
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(html)
    except _dashboard.BenchmarkFileError as exc:
        print(f"python -m fastinit dashboard: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"python -m fastinit dashboard: error: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 2
    count = sum(len(r.results) for r in runs)
    print(f"{args.output}: {len(runs)} run{'s' if len(runs) != 1 else ''}, {count} benchmarks")
    return 0


def _info(args: argparse.Namespace) -> int:
    import fastinit

    from . import _bench

    print(f"fastinit {fastinit.__version__}, stream contract v{fastinit.CONTRACT_VERSION}")
    print(f"backend: {fastinit.backend()}, threads: {fastinit.get_num_threads()}")
    print(f"machine: {_bench.machine_summary()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fastinit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="throughput of the initializers against NumPy (and torch)")
    bench.add_argument("--mib", type=float, default=64.0, help="MiB per buffer (default 64)")
    bench.add_argument("--repeat", type=int, default=3, help="timed runs per case; the best is kept")
    bench.add_argument("--no-torch", action="store_true", help="leave torch out even when installed")
    bench.set_defaults(run=_bench)
    dashboard = sub.add_parser(
        "dashboard", help="one self-contained HTML page from saved pytest-benchmark JSON",
        description="Reads pytest-benchmark JSON files (python -m pytest benchmarks/ --benchmark-json=F) "
                    "and writes one static HTML page: throughput against size, ratios against each "
                    "peer, the write ceiling, machine, commit and history of the runs.")
    dashboard.add_argument("inputs", nargs="*", metavar="JSON_OR_DIR",
                           help="JSON files or directories holding them (default: benchmarks/results)")
    dashboard.add_argument("-o", "--output", default="benchmark-report.html",
                           help="the HTML file to write (default: benchmark-report.html)")
    dashboard.set_defaults(run=_dashboard)
    info = sub.add_parser("info", help="version, backend and machine")
    info.set_defaults(run=_info)
    args = parser.parse_args(argv)
    if not getattr(args, "mib", 1) > 0 or getattr(args, "repeat", 1) <= 0:  # NaN too
        parser.error("--mib and --repeat must be positive")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
