"""Restriction events and the exemption decisions made under them."""
