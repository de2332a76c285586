"""What commands print: one JSON document, plain tables, errors, progress."""

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO


class CommandError(Exception):
    """A command that cannot go on; the message says what to fix."""


def print_json(document: Any) -> None:
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def print_error(message: str) -> None:
    print(f"entatio: {message}", file=sys.stderr)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Columns as wide as their widest cell; numbers align right."""
    cells = [[str(h) for h in headers]] + [
        ["" if c is None else str(c) for c in row] for row in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows) and bool(rows)
        for i in range(len(headers))
    ]

    for number, row in enumerate(cells):
        line = "  ".join(
            cell.rjust(width) if is_number else cell.ljust(width)
            for cell, width, is_number in zip(row, widths, numeric, strict=True)
        )
        print(line.rstrip())
        if number == 0:
            print("  ".join("-" * width for width in widths))


class ProgressBar:
    """Slide n of N on stderr: redrawn in place on a terminal, else by quarters."""

    WIDTH = 30

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.shown_quarter = -1
        self.drawn = False

    def update(self, done: int, total: int) -> None:
        if total <= 0:
            return
        done = min(done, total)
        if self.live:
            filled = self.WIDTH * done // total
            bar = "#" * filled + "." * (self.WIDTH - filled)
            self.stream.write(f"\r{self.label} [{bar}] {done}/{total} slides")
            self.drawn = True
        else:
            quarter = 4 * done // total
            if quarter > self.shown_quarter:
                self.shown_quarter = quarter
                self.stream.write(f"{self.label}: {done}/{total} slides\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
