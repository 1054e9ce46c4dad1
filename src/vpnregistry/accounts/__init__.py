"""Users, organisations, agencies, operators, roles and API tokens."""
