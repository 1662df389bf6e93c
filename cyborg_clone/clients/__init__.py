"""Clients of other services: Nova, Placement, object and image stores."""
