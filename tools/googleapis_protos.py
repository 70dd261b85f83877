"""Copy google/api/{annotations,http}.proto and google/rpc/status.proto from the installed
googleapis-common-protos.

buf cannot reach a schema registry here, so the contract's external imports come from
the wheel that already ships these files next to their _pb2 modules.
The copy is a build input (git-ignored), never edited or committed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import google.api
import google.rpc

# (package, file): google/api for the HTTP annotations, google/rpc for the worker stream's
# per-call error status.
FILES = (
    (google.api, "annotations.proto"),
    (google.api, "http.proto"),
    (google.rpc, "status.proto"),
)


def main() -> None:
    for package, name in FILES:
        source = Path(next(iter(package.__path__)))
        target = Path(sys.argv[1]) / "google" / source.name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target / name)


if __name__ == "__main__":
    main()
