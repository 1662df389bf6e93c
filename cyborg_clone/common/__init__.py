"""Pieces every process shares: exceptions, request context, RPC."""
