"""Tables and queries owned by the auth feature."""
