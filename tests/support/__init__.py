"""Test-support helpers for flowdoc (Node-based Mermaid checker, real OIDC provider)."""
