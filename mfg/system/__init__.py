"""Facts about this installation: what the database holds, which schema revision it runs."""
