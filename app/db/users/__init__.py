"""Tables and queries owned by the users feature."""
