"""Management commands: ``python -m app.commands --help`` (or the invoke tasks that call them).

Each command is one unit of work: it runs inside ``runtime.services_scope()``, so the same
teardown hooks run as after a request or an RPC.
"""
