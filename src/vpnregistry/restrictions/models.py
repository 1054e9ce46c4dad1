"""Restriction events: published orders restricting services (built out in a later step)."""
