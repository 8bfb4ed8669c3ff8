"""Make a throw-away copy of the book's sources so that tests never touch the real _build/."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BOOK_SOURCES = ("_config.yml", "_toc.yml", "params.yml", "book", "notebooks")


def copy_book_sources(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in BOOK_SOURCES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("chapters"))
        else:
            shutil.copy2(src, dest / name)
    return dest
