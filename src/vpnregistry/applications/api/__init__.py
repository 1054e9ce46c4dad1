"""The applications' part of the REST API: applications and their resources, attestations, the
queues, notifications, rejection reasons and the public status."""
