"""Electronic signatures: re-authentication, meaning, and the hash of the signed content."""
