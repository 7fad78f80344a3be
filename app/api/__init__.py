"""The adapters: REST (``app.api.rest``) and gRPC (``app.api.grpc``) over the same services.

Adapters translate a transport to service calls and the error tree back; they hold no
business rules.
"""
