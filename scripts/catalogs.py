"""`make catalogs`: remake the translation templates from the source and merge them into
every language's catalog (service/infra/translations.py). Then translate what is new or
fuzzy (Poedit, or any editor), and `make install` compiles the catalogs."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.infra.translations import update_all  # noqa: E402

if __name__ == "__main__":
    for path in update_all():
        print(path)
