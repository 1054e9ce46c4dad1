"""The registrations' part of the REST API: registrations and the steps of their lifecycle, their
certificates and the public check of a certificate's code, and operators' address space changes."""
