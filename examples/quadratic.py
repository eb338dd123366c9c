"""A command-line trial: any program can be swept; it reads --name=value arguments and prints metric lines.

The loss is a noisy-free quadratic bowl around (1, -2), scaled by the optimizer choice; each "step" prints
`step=K loss=V step_time=T`, which the worker parses into reports.
"""

from __future__ import annotations

import argparse
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--x", type=float, required=True)
    parser.add_argument("--y", type=float, required=True)
    parser.add_argument("--optimizer.lr", dest="lr", type=float, default=0.01)
    parser.add_argument("--optimizer.kind", dest="kind", default="sgd")
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args(argv)
    base = (args.x - 1) ** 2 + (args.y + 2) ** 2
    speed = 1.5 if args.kind == "adam" else 1.0
    for step in range(1, args.steps + 1):
        started = time.perf_counter()
        loss = base / (1 + speed * args.lr * 100 * step)
        print(f"step={step} loss={loss:.6f} step_time={time.perf_counter() - started:.6f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
