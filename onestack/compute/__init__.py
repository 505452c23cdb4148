"""Compute (Nova v2.1 at /compute/v2.1): servers, flavors, keypairs, the agents running guests."""
