"""The network service (Neutron v2.0 at /networking): networks, subnets, ports, routers,
floating IPs, security groups and quotas, over a dataplane driver (`drivers/`)."""
