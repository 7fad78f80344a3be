"""The auth feature: bearer tokens for users. Other features use ``service``."""
