"""Applications, their resources, reviews and attestations, and the workflow between them."""
