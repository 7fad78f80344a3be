"""The users feature: registration, profiles, passwords. Other features use ``service``."""
