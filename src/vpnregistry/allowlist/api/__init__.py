"""The allowlist's part of the REST API: the signed index, the published files and their signatures,
the public key, which operators are behind; and the fast path that answers operators' polls."""
