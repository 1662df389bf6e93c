"""The conductor: owns workflows (binding, device sync) and their writes."""
