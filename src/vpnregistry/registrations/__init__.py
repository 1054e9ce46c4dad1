"""Active registrations, conflicts between them, expiry, renewal and revocation."""
