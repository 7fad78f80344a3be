"""The data layer: models, repositories and the metadata Alembic migrates."""
