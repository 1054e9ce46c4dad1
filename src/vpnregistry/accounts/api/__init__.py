"""The accounts' part of the REST API: the caller's own account and token, sign-up, members and
invitations, operators and districts."""
