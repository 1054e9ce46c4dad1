"""vpnregistry: a one-window registry for VPN endpoints and the signed allowlist operators load."""

__version__ = "0.1.0"
