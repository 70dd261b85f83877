"""Generated from api/stepline/v1 by `make generate`; do not edit the _pb2 modules."""
