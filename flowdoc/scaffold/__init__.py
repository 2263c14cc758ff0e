"""Scaffolding: starting flows from a kind, a browser recording (HAR) or a server's metadata."""
