"""Tables and queries owned by the notes feature (no reference to other features' tables)."""
