"""The REST gateway: HTTP/JSON routes built from the google.api.http annotations,
forwarded over gRPC (grpc-gateway compatible), and the OpenAPI document."""
