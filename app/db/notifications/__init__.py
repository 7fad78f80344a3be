"""notifications' table: which messages went out to whom, so that none goes out twice."""
