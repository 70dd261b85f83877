"""The gRPC services exposed over REST; each annotated method becomes one or more routes."""

from __future__ import annotations

from google.protobuf.descriptor import ServiceDescriptor

from stepline.v1 import admin_service_pb2, workflow_service_pb2

# Services without google.api.http annotations contribute nothing: listing WorkerService
# here would expose no route. Workers speak gRPC only.
REST_SERVICES: tuple[ServiceDescriptor, ...] = (
    workflow_service_pb2.DESCRIPTOR.services_by_name["WorkflowService"],
    admin_service_pb2.DESCRIPTOR.services_by_name["AdminService"],
)
