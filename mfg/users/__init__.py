"""Login, logout, password change, API tokens and user administration (pages and JSON API)."""
