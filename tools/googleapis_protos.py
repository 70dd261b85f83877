"""Copy google/api/{annotations,http}.proto from the installed googleapis-common-protos.

buf cannot reach a schema registry here, so the contract's one external import
comes from the wheel that already ships these files next to their _pb2 modules.
The copy is a build input (git-ignored), never edited or committed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import google.api

FILES = ("annotations.proto", "http.proto")


def main() -> None:
    target = Path(sys.argv[1]) / "google" / "api"
    target.mkdir(parents=True, exist_ok=True)
    source = Path(next(iter(google.api.__path__)))
    for name in FILES:
        shutil.copyfile(source / name, target / name)


if __name__ == "__main__":
    main()
