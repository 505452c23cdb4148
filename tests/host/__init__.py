"""Host tests: real QEMU guests, namespaces and bridges (root)."""
