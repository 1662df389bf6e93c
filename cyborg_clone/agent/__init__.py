"""The agent: one per compute host; discovers and programs its cards."""
