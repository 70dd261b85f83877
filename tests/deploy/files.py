"""Readers for deploy/: YAML documents, the Dockerfile's stages, and the environment
variables the `stepline-server` and `stepline` commands actually read."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

import services.cli
import stepline.cli.parser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def k8s_documents() -> dict[str, dict[str, Any]]:
    """Every Kubernetes object under deploy/k8s/ (not the Kustomization), by kind."""
    objects: dict[str, dict[str, Any]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document["kind"] != "Kustomization":
                assert document["kind"] not in objects, f"two {document['kind']} objects"
                objects[document["kind"]] = document
    return objects


def port_of(address: str) -> int:
    """The port of a host:port address."""
    return int(address.rsplit(":", 1)[1])


class _RecordingEnviron(dict[str, str]):
    """An empty environment that remembers every variable a parser asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)


def _variables_read(module: Any, build: Any) -> set[str]:
    environ = _RecordingEnviron()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "os", SimpleNamespace(environ=environ))
        build()
    return {name for name in environ.asked if name.startswith("STEPLINE_")}


def server_variables() -> set[str]:
    """The STEPLINE_* variables `stepline-server`'s parser reads, found by building it."""
    return _variables_read(services.cli, services.cli._parser)


def cli_variables() -> set[str]:
    """The STEPLINE_* variables the `stepline` command's parser (and so its worker) reads."""
    return _variables_read(stepline.cli.parser, stepline.cli.parser.build)


@dataclass
class Stage:
    """One FROM … section of a Dockerfile: its name and (instruction, arguments) pairs."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for word, args in self.instructions if word == keyword]

    def env(self) -> dict[str, str]:
        pairs = (item.split("=", 1) for args in self.all("ENV") for item in shlex.split(args))
        return {key: value for key, value in pairs}

    def exec_form(self, keyword: str) -> list[str]:
        """The last `keyword ["a", "b"]` instruction's words."""
        words: list[str] = json.loads(self.all(keyword)[-1])
        return words


def dockerfile_stages(path: Path = DEPLOY / "Dockerfile") -> list[Stage]:
    """The stages of a Dockerfile: continuation lines joined, comments dropped."""
    text = path.read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    stages: list[Stage] = []
    for line in joined.splitlines():
        if not line.strip():
            continue
        word, _, args = line.strip().partition(" ")
        word, args = word.upper(), " ".join(args.split())
        if word == "FROM":
            base, _, name = args.partition(" AS ")
            stages.append(Stage(base=base, name=name or None))
        elif stages:
            stages[-1].instructions.append((word, args))
    return stages
