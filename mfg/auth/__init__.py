"""Users, roles, passwords, login, lockout and the permission table."""
