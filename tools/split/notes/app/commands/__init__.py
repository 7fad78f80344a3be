"""Development commands: ``python -m app.commands.serve`` (``invoke serve``) and
``python -m app.commands.localdb`` (``invoke db.*``)."""
