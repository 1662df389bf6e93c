"""Accelerator drivers: discover cards under a sysfs root, program them."""
