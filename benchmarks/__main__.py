"""``python -m benchmarks`` — see benchmarks/README.md."""

from benchmarks.run import main

if __name__ == "__main__":
    raise SystemExit(main())
