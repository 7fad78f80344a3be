"""The notifications feature: messages to users (the welcome mail), sent by the worker."""
