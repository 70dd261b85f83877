"""The stepline server: gRPC servicers, run rules at the API edge, wiring, maintenance.

Maps storage records to protobuf messages in one place (services.convert).
"""
