"""The service layer: business rules, one package per feature, no transport in sight."""
