"""Command line: ``python -m fastinit bench`` prints the speed table against NumPy (and torch
when installed); ``dashboard`` turns saved benchmark JSON into an HTML page; ``demo`` shows why
initialization matters on a deep NumPy network; ``info`` prints the setup."""
from __future__ import annotations

import argparse
import os
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


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _demo(args: argparse.Namespace) -> int:
    from . import _demo

    config = _demo.Config(layers=args.layers, width=args.width, batch=args.batch, train_width=args.train_width,
                          steps=args.steps, lr=args.lr, momentum=args.momentum, dataset=args.dataset,
                          points=args.points, seed=args.seed, activations=_names(args.activations),
                          initializers=_names(args.initializers))
    try:
        config.check()
        folder = os.path.dirname(args.out) or "."
        if args.out and not os.path.isdir(folder):  # say so now, not after the run
            raise ValueError(f"cannot write {args.out}: no directory {folder}")
    except ValueError as exc:
        print(f"python -m fastinit demo: error: {exc}", file=sys.stderr)
        return 2
    cases = _demo.run(config, progress=not args.no_progress)
    print(_demo.table(cases))
    print()
    print(_demo.legend(config))
    if args.out:
        from . import _demo_report

        try:
            with open(args.out, "w", encoding="utf-8") as f:
                f.write(_demo_report.render(cases, config))
        except OSError as exc:
            print(f"python -m fastinit demo: error: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
            return 2
        print(f"\nreport: {args.out}")
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
    demo = sub.add_parser(
        "demo", help="why initialization matters: a deep NumPy network under each initializer",
        description="For each initializer and activation: activation statistics and gradient norms layer by "
                    "layer on a deep fully connected NumPy network, then a short training run on a 2-D data "
                    "set. Prints a table and writes an offline HTML report (docs/demo.md).")
    from ._demo import ACTIVATIONS, DATASETS, INITIALIZERS, Config

    defaults = Config()
    demo.add_argument("--layers", type=int, default=defaults.layers, help=f"hidden layers (default {defaults.layers})")
    demo.add_argument("--width", type=int, default=defaults.width,
                      help=f"units per layer in the signal-propagation pass (default {defaults.width})")
    demo.add_argument("--batch", type=int, default=defaults.batch,
                      help=f"random inputs in the signal-propagation pass (default {defaults.batch})")
    demo.add_argument("--train-width", type=int, default=defaults.train_width,
                      help=f"units per layer of the trained network (default {defaults.train_width})")
    demo.add_argument("--steps", type=int, default=defaults.steps,
                      help=f"training steps, 0 to skip training (default {defaults.steps})")
    demo.add_argument("--lr", type=float, default=defaults.lr, help=f"learning rate (default {defaults.lr:g})")
    demo.add_argument("--momentum", type=float, default=defaults.momentum,
                      help=f"SGD momentum (default {defaults.momentum:g})")
    demo.add_argument("--dataset", choices=DATASETS, default=defaults.dataset,
                      help=f"training data (default {defaults.dataset})")
    demo.add_argument("--points", type=int, default=defaults.points,
                      help=f"training points, and as many test points (default {defaults.points})")
    demo.add_argument("--seed", type=int, default=defaults.seed, help=f"fastinit seed (default {defaults.seed})")
    demo.add_argument("--activations", default=",".join(ACTIVATIONS),
                      help=f"comma-separated (default {','.join(ACTIVATIONS)})")
    demo.add_argument("--initializers", default=",".join(INITIALIZERS),
                      help=f"comma-separated (default {','.join(INITIALIZERS)})")
    demo.add_argument("-o", "--out", default="init-demo.html",
                      help="the HTML report to write (default init-demo.html; '' for none)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    demo.set_defaults(run=_demo)
    info = sub.add_parser("info", help="version, backend and machine")
    info.set_defaults(run=_info)
    args = parser.parse_args(argv)
    if not getattr(args, "mib", 1) > 0 or getattr(args, "repeat", 1) <= 0:  # NaN too
        parser.error("--mib and --repeat must be positive")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
