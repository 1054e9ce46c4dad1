"""The applications' part of the REST API: applications and their resources, attestations, the
queues, notifications, rejection reasons, the public status, and organisations' documents (whose
readers the applications decide)."""
