"""stepline: durable workflows as a service.

`stepline.v1` holds the generated protobuf and gRPC modules of the API contract
(api/stepline/v1). The Python SDK (workflows, worker, client) will live here too.
"""
