"""Proto comments, by full name, for the OpenAPI descriptions.

The runtime descriptors in `stepline/v1/*_pb2.py` carry no source comments, so the
comments come from `stepline.binpb`: a FileDescriptorSet with source info, built from
`api/` by `buf build` (`make generate`) and checked up to date by `make proto-check`.
It ships inside the package, so the gateway needs neither `api/` nor buf at run time.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from pathlib import Path

from google.protobuf import descriptor_pb2

DESCRIPTOR_SET = Path(__file__).with_name("stepline.binpb")

# Field numbers in FileDescriptorProto / DescriptorProto / ... that source-info paths use.
_FILE_MESSAGE, _FILE_ENUM, _FILE_SERVICE = 4, 5, 6
_MESSAGE_FIELD, _MESSAGE_NESTED, _MESSAGE_ENUM = 2, 3, 4
_ENUM_VALUE = 2
_SERVICE_METHOD = 2

SourcePath = tuple[int, ...]


def load_descriptor_set(path: Path = DESCRIPTOR_SET) -> descriptor_pb2.FileDescriptorSet:
    descriptor_set = descriptor_pb2.FileDescriptorSet()
    descriptor_set.ParseFromString(path.read_bytes())
    return descriptor_set


@functools.cache
def comments() -> dict[str, str]:
    """Leading comment of each message, field, enum, enum value, service and method.

    Keys are full names ("stepline.v1.WorkflowRun.run_id"); an enum value's key is its
    enum's full name plus the value name ("stepline.v1.StepKind.STEP_KIND_SLEEP").
    """
    result: dict[str, str] = {}
    for file in load_descriptor_set().file:
        by_path = {
            tuple(loc.path): _clean(loc.leading_comments)
            for loc in file.source_code_info.location
            if loc.leading_comments.strip()
        }
        for name, path in _named_paths(file):
            if path in by_path:
                result[name] = by_path[path]
    return result


def comment(full_name: str) -> str | None:
    return comments().get(full_name)


def _clean(text: str) -> str:
    """Comment lines without their leading space, joined with newlines (Markdown-friendly)."""
    return "\n".join(line.removeprefix(" ").rstrip() for line in text.strip("\n").split("\n"))


def _named_paths(file: descriptor_pb2.FileDescriptorProto) -> Iterator[tuple[str, SourcePath]]:
    prefix = file.package
    for i, message in enumerate(file.message_type):
        yield from _message_paths(message, f"{prefix}.{message.name}", (_FILE_MESSAGE, i))
    for i, enum in enumerate(file.enum_type):
        yield from _enum_paths(enum, f"{prefix}.{enum.name}", (_FILE_ENUM, i))
    for i, service in enumerate(file.service):
        name = f"{prefix}.{service.name}"
        yield name, (_FILE_SERVICE, i)
        for j, method in enumerate(service.method):
            yield f"{name}.{method.name}", (_FILE_SERVICE, i, _SERVICE_METHOD, j)


def _message_paths(
    message: descriptor_pb2.DescriptorProto, name: str, path: SourcePath
) -> Iterator[tuple[str, SourcePath]]:
    yield name, path
    for i, field in enumerate(message.field):
        yield f"{name}.{field.name}", (*path, _MESSAGE_FIELD, i)
    for i, nested in enumerate(message.nested_type):
        yield from _message_paths(nested, f"{name}.{nested.name}", (*path, _MESSAGE_NESTED, i))
    for i, enum in enumerate(message.enum_type):
        yield from _enum_paths(enum, f"{name}.{enum.name}", (*path, _MESSAGE_ENUM, i))


def _enum_paths(
    enum: descriptor_pb2.EnumDescriptorProto, name: str, path: Sequence[int]
) -> Iterator[tuple[str, SourcePath]]:
    yield name, tuple(path)
    for i, value in enumerate(enum.value):
        yield f"{name}.{value.name}", (*path, _ENUM_VALUE, i)
