"""The ``backend.v1`` protobuf package: messages, stubs and servicers."""
