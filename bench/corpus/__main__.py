"""python -m bench.corpus generate --out DIR | score [--corpus DIR] [--out bench/results]"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT = Path("tests/fixtures/corpus")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="stage every fault on the test control plane and record")
    gen.add_argument("--out", type=Path, default=DEFAULT)
    gen.add_argument("--only", help="only fault types whose id contains this")
    gen.add_argument("--settle", type=float, default=25.0, help="seconds for controllers to react")
    score = sub.add_parser("score", help="replay every bundle through the offline reasoner")
    score.add_argument("--corpus", type=Path, default=DEFAULT)
    score.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    if args.command == "generate":
        from bench.corpus.generate import generate

        generate(args.out, args.only, args.settle)
        return 0
    from bench.corpus.score import main as score_main

    return score_main(args.corpus, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
