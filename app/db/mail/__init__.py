"""The local mail outbox: messages the ``outbox`` mail backend delivered, kept in a table."""
