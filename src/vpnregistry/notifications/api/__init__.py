"""The notifications' part of the REST API: each user's own notifications."""
