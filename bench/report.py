"""What every benchmark prints: one JSON line a measurement, notes on stderr, percentiles."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit(record: dict[str, Any], output: str | None = None) -> None:
    """Print a measurement as one JSON line (and append it to `output`)."""
    line = json.dumps(record)
    print(line, flush=True)
    if output:
        with open(output, "a") as f:
            f.write(line + "\n")


def note(bench: str, message: str) -> None:
    print(f"{bench}: {message}", file=sys.stderr, flush=True)


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * q))]
