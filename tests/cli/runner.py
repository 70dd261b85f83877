"""`stepline …` run in-process through `main()`, its output captured by pytest."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from stepline.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """`stepline …` through `main()` in this process, against one server."""

    def __init__(self, capsys: pytest.CaptureFixture[str], address: str) -> None:
        self._capsys = capsys
        self.address = address

    def __call__(self, *args: str) -> Result:
        self._capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            main(["--address", self.address, *args])
        captured = self._capsys.readouterr()
        code = exited.value.code
        return Result(code if isinstance(code, int) else 1, captured.out, captured.err)

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.code == 0, result
        return result

    def start(self, *args: str) -> dict[str, Any]:
        run: dict[str, Any] = self.ok("--output", "json", "runs", "start", *args).json()
        return run
