"""Snapshots and deltas of the allowlist, their formats, signing and publication."""
