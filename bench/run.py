"""Run every benchmark of ``bench/`` and print their ``name: value`` lines.

Usage: ``python bench/run.py [NAME ...]`` where NAME is e.g. ``search`` for
``bench_search.py``; with no name, all of them run, one process each (so one
benchmark's caches and memory do not flatter the next).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in argv]
    failed = 0
    for script in scripts:
        print(f"# {script.stem}", flush=True)
        proc = subprocess.run([sys.executable, str(script)], check=False)
        if proc.returncode:
            print(f"{script.stem}_exit_code: {proc.returncode}", flush=True)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
