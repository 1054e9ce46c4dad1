"""The transparency part of the REST API: an organisation's export of what is held about it."""
