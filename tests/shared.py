"""Where the shared corpus and data sets are; tests read them in place."""

import csv
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    return Path(os.environ.get("ENTATIO_SHARED") or REPO.parent / "shared")


def corpus_dir() -> Path:
    path = shared_dir() / "corpus"
    if not (path / "MANIFEST.tsv").exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"CI must have the shared corpus, missing at {path}")
        pytest.skip("the shared corpus is not on this machine")
    return path


def corpus_manifest() -> list[dict[str, str]]:
    with (corpus_dir() / "MANIFEST.tsv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))
