"""The notes feature: a user's private notes. Knows users only by id."""
