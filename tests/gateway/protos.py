"""Compiles tests/gateway/protos/gatewaytest.proto at test time into the default
descriptor pool (where the google.api.http extension is registered), once."""

from __future__ import annotations

import functools
import subprocess
import sys
import tempfile
from pathlib import Path

import google.api
import grpc_tools
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, ServiceDescriptor
from google.protobuf.message import Message

_PROTOS = Path(__file__).with_name("protos")
_PACKAGE = "gatewaytest.v1"


@functools.cache
def _load() -> None:
    googleapis = Path(next(iter(google.api.__path__))).parent.parent
    well_known = Path(next(iter(grpc_tools.__path__))) / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.binpb"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "grpc_tools.protoc",
                f"-I{_PROTOS}",
                f"-I{googleapis}",
                f"-I{well_known}",
                "--include_imports",
                f"--descriptor_set_out={out}",
                "gatewaytest.proto",
            ],
            check=True,
        )
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    pool = descriptor_pool.Default()
    for file in files.file:
        try:
            pool.FindFileByName(file.name)
        except KeyError:
            pool.Add(file)


def service(name: str) -> ServiceDescriptor:
    _load()
    return descriptor_pool.Default().FindServiceByName(f"{_PACKAGE}.{name}")


def message_class(name: str) -> type[Message]:
    _load()
    descriptor: Descriptor = descriptor_pool.Default().FindMessageTypeByName(f"{_PACKAGE}.{name}")
    return message_factory.GetMessageClass(descriptor)
