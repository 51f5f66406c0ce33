"""Statistical quality of fastinit's raw Philox4x32-10 stream (not part of CI: hours of CPU).

Two sub-commands:

  stream     write the raw 32-bit words of (seed, stream), starting at word OFFSET, to stdout as
             native-endian binary, chunk after chunk, until WORDS words are written (default:
             forever, until the reader closes the pipe). The words come from
             fastinit.random_bits_ on a uint32 buffer, exactly as users get them, so the test
             batteries see the library's own output and not a re-implementation.
  dieharder  pipe `stream` into `dieharder -g 200` (stdin_input_raw) and keep its report.
  summary    count PASSED/WEAK/FAILED in dieharder logs, or print TestU01's summary.

    python tools/rng_quality.py stream --seed 42 --stream 0 | dieharder -g 200 -a
    python tools/rng_quality.py dieharder --seed 42 --stream 0 -- -a          # the same, logged
    python tools/rng_quality.py dieharder --seed 42 -- -d 0 -d 15             # some tests

The results, seeds and commands of the recorded runs are in docs/rng-quality.md.
TestU01's batteries run from the C driver tools/testu01_philox.c (it links csrc/ directly).
"""
from __future__ import annotations

import argparse
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import time
from typing import BinaryIO

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHUNK_WORDS = 1 << 22  # 16 MiB per write: big enough that Python's per-call cost vanishes


def write_stream(out: BinaryIO, seed: int, stream: int, offset: int = 0, words: int | None = None,
                 chunk: int = CHUNK_WORDS, interleave: int = 1) -> int:
    """Write words [offset, offset + words) of (seed, stream) to ``out``; None means forever.

    With ``interleave=K`` the output takes one word in turn from each of the K streams
    stream, stream + 1, ..., stream + K - 1 (each from its word ``offset`` on): a test of the
    independence of neighbouring streams, which a model's parameters use under one seed.
    Returns the number of words written (stops quietly when the reader goes away)."""
    import fastinit as fi

    if chunk <= 0:
        raise ValueError(f"chunk={chunk} must be positive")
    if words is not None and words < 0:
        raise ValueError(f"words={words} must be >= 0")
    if not 1 <= interleave <= 64 or stream + interleave > 2**64:
        raise ValueError(f"interleave={interleave} must be in [1, 64] with stream + interleave <= 2**64")
    per = -(-chunk // interleave)  # words per stream and chunk
    buf = np.empty((per, interleave), np.uint32)
    column = np.empty(per, np.uint32)
    flat = buf.reshape(-1)
    view = memoryview(flat).cast("B")
    done = 0
    while words is None or done < words:
        n = flat.size if words is None else min(flat.size, words - done)
        if interleave == 1:
            fi.random_bits_(flat[:n], seed=seed, stream=stream, offset=offset + done)
        else:
            for k in range(interleave):
                buf[:, k] = fi.random_bits_(column, seed=seed, stream=stream + k, offset=offset + done // interleave)
        try:
            out.write(view[: 4 * n])
        except BrokenPipeError:
            return done
        done += n
    out.flush()
    return done


def _cmd_stream(args: argparse.Namespace) -> int:
    out = sys.stdout.buffer
    try:
        write_stream(out, args.seed, args.stream, args.offset, args.words, interleave=args.interleave)
    except BrokenPipeError:
        pass
    # The reader (dieharder) closes the pipe when it has enough: silence the flush at exit.
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _cmd_dieharder(args: argparse.Namespace) -> int:
    if shutil.which("dieharder") is None:
        sys.exit("dieharder is not installed (Debian/Ubuntu: apt-get install dieharder)")
    feeder = [sys.executable, str(pathlib.Path(__file__).resolve()), "stream", "--seed", str(args.seed),
              "--stream", str(args.stream), "--offset", str(args.offset), "--interleave", str(args.interleave)]
    extra = [a for a in args.dieharder_args if a != "--"]
    tester = ["dieharder", "-g", "200", *extra]
    import fastinit as fi

    package_root = str(pathlib.Path(fi.__file__).resolve().parent.parent)
    streams = f"stream={args.stream}" if args.interleave == 1 else \
        f"streams {args.stream}..{args.stream + args.interleave - 1} interleaved word by word"
    header = (f"# fastinit raw stream: seed={args.seed} {streams} offset={args.offset}\n"
              f"# fastinit {fi.__version__} from {package_root}, backend {fi.backend()}\n"
              f"# feeder: {shlex.join(feeder)}\n# tester: {shlex.join(tester)}\n"
              f"# started {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}\n")
    log = open(args.log, "w") if args.log else sys.stdout
    log.write(header)
    log.flush()
    t0 = time.monotonic()
    # The feeder imports the very fastinit this process has (the script's own directory, not
    # the checkout, is first on its path otherwise).
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    src = subprocess.Popen(feeder, stdout=subprocess.PIPE, cwd=ROOT, env=env)
    assert src.stdout is not None
    rc = subprocess.call(tester, stdin=src.stdout, stdout=log, stderr=subprocess.STDOUT)
    src.stdout.close()
    src.terminate()
    src.wait()
    log.write(f"# finished {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, "
              f"{time.monotonic() - t0:.0f} s wall, dieharder exit {rc}\n")
    log.flush()
    return rc


def summarize(text: str) -> str:
    """One paragraph on a dieharder or TestU01 log: counts of assessments, or TestU01's summary
    (and, for a run cut short, how many tests finished)."""
    if "dieharder version" in text or "# tester: dieharder" in text:
        rows = [line.split("|") for line in text.splitlines() if line.count("|") == 5 and "test_name" not in line]
        rows = [[c.strip() for c in r] for r in rows if r[-1].strip() in ("PASSED", "WEAK", "FAILED")]
        counts = {a: sum(r[-1] == a for r in rows) for a in ("PASSED", "WEAK", "FAILED")}
        lines = [f"{len(rows)} results: " + ", ".join(f"{n} {a}" for a, n in counts.items())]
        if rows:
            ps = [float(r[4]) for r in rows]
            lines.append(f"p-values from {min(ps):.8f} to {max(ps):.8f}")
        lines += [f"  {r[-1]}: {r[0]} (ntup {r[1]}, {r[3]} psamples) p = {r[4]}" for r in rows if r[-1] != "PASSED"]
        if any(re.search(r"-Y [12]", line) for line in text.splitlines() if line.startswith("# tester:")):
            # resolve-ambiguity mode re-runs a test with more psamples: its last round is final
            most = {}
            for r in rows:
                most[r[0]] = max(most.get(r[0], 0), int(r[3]))
            final = [r for r in rows if int(r[3]) == most[r[0]]]
            lines.append("final round (most psamples per test): " + ", ".join(
                f"{sum(r[-1] == a for r in final)} {a}" for a in ("PASSED", "WEAK", "FAILED")))
        return "\n".join(lines)
    done = text.count("CPU time used")
    if "Summary results of" in text:
        summary = text[text.index("========= Summary results of"):]
        return "\n".join([line.rstrip() for line in summary.splitlines() if line.strip()] + _replicates(text))
    ps = re.findall(r"^p-value of test\s*:\s*(.+?)\s*$", text, flags=re.M)
    flagged = [v.split("*")[0].strip() for v in ps if not 0.001 <= _testu01_p(v) <= 0.999]
    return (f"TestU01 run not finished: {done} tests completed so far, {len(ps)} p-values, "
            + (f"outside [0.001, 0.999]: {', '.join(flagged)}" if flagged else "none outside [0.001, 0.999]"))


def _replicates(text: str) -> list[str]:
    """For a test run several times (crush-test=NxTIMES): per statistic, its p-values and the
    Kolmogorov-Smirnov p-value of their uniformity (what a sound generator gives). Only for
    logs of one replicated test: in a whole battery, statistics of different tests share names."""
    if not re.search(r"^# command: .*-test=\d+x\d+", text, flags=re.M):
        return []
    pairs = re.findall(r"Statistic (\w+)\s*\n(?:.*\n){0,4}?p-value of test\s*:\s*(.+?)\s*$", text, flags=re.M)
    by_stat: dict[str, list[float]] = {}
    for stat, value in pairs:
        by_stat.setdefault(stat, []).append(_testu01_p(value))
    lines = []
    for stat, ps in by_stat.items():
        if len(ps) >= 5:
            from scipy import stats

            ks = stats.kstest(ps, "uniform").pvalue
            lines.append(f"statistic {stat}: {len(ps)} replicates, p from {min(ps):.4g} to {max(ps):.4g}, "
                         f"KS uniformity p = {ks:.3g}")
    return lines


def _testu01_p(text: str) -> float:
    """A p-value as TestU01 prints it: "0.36", "4.2e-5", "eps", "1 - 3.1e-6", "1 - eps1", and
    maybe followed by the "*****" it puts after suspicious ones."""
    text = text.split("*")[0].strip()
    if text.startswith("1 -"):
        rest = text[3:].strip()
        return 1.0 - (0.0 if rest.startswith("eps") else float(rest))
    return 0.0 if text.startswith("eps") else float(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("summary", help="summarize dieharder/TestU01 logs").add_argument("logs", nargs="+")
    for name in ("stream", "dieharder"):
        s = sub.add_parser(name)
        s.add_argument("--seed", type=int, default=42)
        s.add_argument("--stream", type=int, default=0)
        s.add_argument("--offset", type=int, default=0, help="first word (default 0)")
        s.add_argument("--interleave", type=int, default=1,
                       help="K > 1: alternate the words of streams STREAM..STREAM+K-1")
        if name == "stream":
            s.add_argument("--words", type=int, default=None, help="stop after this many words")
        else:
            s.add_argument("--log", help="write dieharder's report here (default stdout)")
            s.add_argument("dieharder_args", nargs=argparse.REMAINDER,
                           help="after --: arguments for dieharder (e.g. -a, or -d 0)")
    args = p.parse_args(argv)
    if args.cmd == "summary":
        for log in args.logs:
            print(f"{log}:\n{summarize(pathlib.Path(log).read_text())}\n")
        return 0
    return _cmd_stream(args) if args.cmd == "stream" else _cmd_dieharder(args)


if __name__ == "__main__":
    sys.exit(main())
