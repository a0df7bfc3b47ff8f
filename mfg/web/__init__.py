"""What pages and API routes share: the unit of work, templating, error rendering."""
