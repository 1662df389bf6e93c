"""Clients of other services (Nova, later Placement and object stores)."""
