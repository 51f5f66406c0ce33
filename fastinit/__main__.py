"""Command line: ``python -m fastinit bench`` prints the speed table; ``info`` the setup."""
from __future__ import annotations

import argparse
import sys


def _bench(args: argparse.Namespace) -> int:
    from . import _bench

    rows, ceiling = _bench.run(args.elements, args.repeat, with_torch=not args.no_torch)
    print(_bench.format_table(rows, ceiling, args.elements))
    if not args.no_torch and all(r.seconds["torch"] is None for r in rows):
        print("\n(torch is not installed: install it to add its column)")
    return 0


def _info(args: argparse.Namespace) -> int:
    import fastinit

    from . import _bench

    print(f"fastinit {fastinit.__version__}, stream contract v{fastinit.CONTRACT_VERSION}")
    print(f"backend: {fastinit.backend()}")
    print(f"machine: {_bench.machine_summary()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fastinit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="throughput of every initializer against NumPy (and torch)")
    bench.add_argument("--elements", type=int, default=1 << 24, help="elements per buffer (default 2^24)")
    bench.add_argument("--repeat", type=int, default=3, help="timed runs per case; the best is kept")
    bench.add_argument("--no-torch", action="store_true", help="leave torch out even when installed")
    bench.set_defaults(run=_bench)
    info = sub.add_parser("info", help="version, backend and machine")
    info.set_defaults(run=_info)
    args = parser.parse_args(argv)
    if getattr(args, "elements", 1) <= 0 or getattr(args, "repeat", 1) <= 0:
        parser.error("--elements and --repeat must be positive")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
