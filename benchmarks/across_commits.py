"""Ticket creation at two commits, measured in one run on this machine.

Run: .venv/bin/python benchmarks/across_commits.py BEFORE [AFTER] [--rounds 3]
     [--seconds 10] [--sla C1]

Checks each commit out into a worktree of its own (git worktree, removed at the end), then
runs that commit's benchmarks/ticket_create.py (its code, its migrations, served by gunicorn
from its worktree) BEFORE, AFTER, BEFORE, AFTER … for --rounds rounds, so that the machine's
drift falls on both alike. Prints each run's itsm tickets/s and itsm/floor ratio (what our
logic keeps of what the stack allows: the figure least moved by the machine's load), the
medians, and AFTER / BEFORE for both.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ITSM_LINE = re.compile(r"^itsm POST /api/v1/tickets\s+(\d+)\s+(\d+)\s+([\d.]+)", re.M)
FLOOR_RATIO = re.compile(r"itsm / floor: ([\d.]+)%")


def measure(worktree: Path, args: argparse.Namespace) -> tuple[float, float]:
    """One run of the worktree's ticket_create.py: (itsm tickets/s, itsm/floor)."""
    command = [
        sys.executable,
        str(worktree / "benchmarks" / "ticket_create.py"),
        "--seconds",
        str(args.seconds),
        "--sla",
        args.sla,
    ]
    run = subprocess.run(command, cwd=worktree, capture_output=True, text=True, check=False)
    rate, ratio = ITSM_LINE.search(run.stdout), FLOOR_RATIO.search(run.stdout)
    if rate is None or ratio is None or int(rate.group(2)):
        raise SystemExit(f"{worktree.name}: no clean result\n{run.stdout[-3000:]}{run.stderr}")
    return float(rate.group(3)), float(ratio.group(1)) / 100


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after", nargs="?", default="HEAD")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sla", default="C1", help="shipped policy: tickets start clocks")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="itsm-across-"))
    trees = {}
    try:
        for label, rev in (("before", args.before), ("after", args.after)):
            trees[label] = folder / label
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(trees[label]), rev],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
        results: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
        for round_number in range(1, args.rounds + 1):
            for label in ("before", "after"):
                rate, ratio = measure(trees[label], args)
                results[label].append((rate, ratio))
                print(
                    f"round {round_number} {label:<6} {rate:7.1f} tickets/s, "
                    f"itsm/floor {ratio:6.1%}",
                    flush=True,
                )
        medians = {
            label: (
                statistics.median(r for r, _ in runs),
                statistics.median(q for _, q in runs),
            )
            for label, runs in results.items()
        }
        for label in ("before", "after"):
            rate, ratio = medians[label]
            print(f"median {label:<6} {rate:7.1f} tickets/s, itsm/floor {ratio:6.1%}")
        print(
            f"after / before: throughput {medians['after'][0] / medians['before'][0]:.1%}, "
            f"itsm/floor {medians['after'][1] / medians['before'][1]:.1%}"
        )
    finally:
        for tree in trees.values():
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
