from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class Permission(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PERMISSION_UNSPECIFIED: _ClassVar[Permission]
    PERMISSION_READ: _ClassVar[Permission]
    PERMISSION_WRITE: _ClassVar[Permission]
    PERMISSION_WORK: _ClassVar[Permission]
    PERMISSION_ADMIN: _ClassVar[Permission]
    PERMISSION_OPERATOR: _ClassVar[Permission]

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_READER: _ClassVar[Role]
    ROLE_CLIENT: _ClassVar[Role]
    ROLE_WORKER: _ClassVar[Role]
    ROLE_ADMIN: _ClassVar[Role]
PERMISSION_UNSPECIFIED: Permission
PERMISSION_READ: Permission
PERMISSION_WRITE: Permission
PERMISSION_WORK: Permission
PERMISSION_ADMIN: Permission
PERMISSION_OPERATOR: Permission
ROLE_UNSPECIFIED: Role
ROLE_READER: Role
ROLE_CLIENT: Role
ROLE_WORKER: Role
ROLE_ADMIN: Role
REQUIRED_PERMISSION_FIELD_NUMBER: _ClassVar[int]
required_permission: _descriptor.FieldDescriptor
