"""The accounts' part of the REST API: the caller's own account and token, sign-up, members,
documents, operators and their address space, districts."""
