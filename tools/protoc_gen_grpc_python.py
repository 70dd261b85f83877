"""A protoc plugin that runs grpcio-tools' built-in gRPC Python generator for buf.

buf cannot call `protoc_builtin: grpc_python`: that generator is compiled into
grpcio-tools' protoc, not shipped as a plugin binary. This plugin reads buf's
CodeGeneratorRequest, hands the same descriptors to grpcio-tools' protoc with
--grpc_python_out, and returns what it wrote as a CodeGeneratorResponse.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import protoc


def generate(request: plugin_pb2.CodeGeneratorRequest) -> plugin_pb2.CodeGeneratorResponse:
    response = plugin_pb2.CodeGeneratorResponse(
        supported_features=plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    )
    with tempfile.TemporaryDirectory() as tmp:
        descriptor_set = Path(tmp, "descriptors.binpb")
        files = descriptor_pb2.FileDescriptorSet(file=request.proto_file)
        descriptor_set.write_bytes(files.SerializeToString())
        out = Path(tmp, "out")
        out.mkdir()
        # Only files that define a service get a _pb2_grpc module.
        with_services = {f.name for f in request.proto_file if f.service}
        targets = [name for name in request.file_to_generate if name in with_services]
        if not targets:
            return response
        args = [
            "grpc_tools.protoc",
            f"--descriptor_set_in={descriptor_set}",
            f"--grpc_python_out={out}",
            *targets,
        ]
        if protoc.main(args) != 0:
            response.error = "grpc_tools.protoc failed to generate gRPC stubs"
            return response
        for path in sorted(out.rglob("*.py")):
            response.file.add(name=str(path.relative_to(out)), content=path.read_text())
    return response


def main() -> None:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    sys.stdout.buffer.write(generate(request).SerializeToString())


if __name__ == "__main__":
    main()
