"""Interoperability: flows checked against, or turned into, other API description formats."""
