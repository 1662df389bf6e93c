"""cyborg_clone: accelerator management for OpenStack clouds."""
