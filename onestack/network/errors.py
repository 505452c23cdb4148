"""Network's domain errors, named as Neutron names them; `network.api` renders each as
`{"NeutronError": {"type": <class name>, "message": ..., "detail": ""}}`.

NetworkNotFound, SubnetNotFound, PortNotFound, RouterNotFound,
FloatingIPNotFound, SecurityGroupNotFound, SecurityGroupRuleNotFound,
ExternalGatewayForFloatingIPNotFound, ExtensionNotFound           404
InvalidInput, BadRequest family (FixedIpNotValid ...),
RouterInterfaceExists (400 as Neutron), InvalidCIDR ...            400
PortInUse, IpAddressAlreadyAllocated, NetworkInUse, SubnetInUse,
SecurityGroupInUse, SecurityGroupRuleExists, NetworkAmbiguous,
OverQuota, MacAddressInUse, IpAddressGenerationFailure ...         409
VifPlugTimeout                                                     500 (compute maps it)
"""

from __future__ import annotations

from onestack.common.errors import BadRequest, Conflict, Forbidden, NotFound, OneStackError


class InvalidInput(BadRequest):
    def __init__(self, message: str) -> None:
        super().__init__(f"Invalid input for operation: {message}")


class PolicyNotAuthorized(Forbidden):
    pass


class _Missing(NotFound):
    kind = "resource"

    def __init__(self, resource_id: str) -> None:
        super().__init__(f"{self.kind} {resource_id} could not be found.")


class NetworkNotFound(_Missing):
    kind = "Network"


class SubnetNotFound(_Missing):
    kind = "Subnet"


class PortNotFound(_Missing):
    kind = "Port"


class RouterNotFound(_Missing):
    kind = "Router"


class FloatingIPNotFound(_Missing):
    kind = "Floating IP"


class SecurityGroupNotFound(_Missing):
    kind = "Security group"


class SecurityGroupRuleNotFound(_Missing):
    kind = "Security group rule"


class ExtensionNotFound(_Missing):
    kind = "Extension"


class MarkerNotFound(_Missing):
    kind = "Marker"


class ExternalGatewayForFloatingIPNotFound(NotFound):
    def __init__(self, subnet_id: str, external_network_id: str, port_id: str) -> None:
        super().__init__(
            f"External network {external_network_id} is not reachable from subnet {subnet_id}. "
            f"Therefore, cannot associate Port {port_id} with a Floating IP."
        )


class FixedIpNotValid(BadRequest):
    def __init__(self, ip_address: str, subnet_id: str) -> None:
        super().__init__(f"IP address {ip_address} is not a valid IP for the specified subnet.")


class InvalidIpForNetwork(BadRequest):
    def __init__(self, ip_address: str) -> None:
        super().__init__(
            f"IP address {ip_address} is not a valid IP for any of the subnets on the "
            "specified network."
        )


class RouterInterfaceExists(BadRequest):
    """Neutron answers a subnet attached twice with 400 BadRequest."""

    def __init__(self, router_id: str, subnet_id: str) -> None:
        super().__init__(f"Bad router request: Router already has a port on subnet {subnet_id}.")


class RouterInterfaceNotFoundForSubnet(NotFound):
    def __init__(self, router_id: str, subnet_id: str) -> None:
        super().__init__(f"Router {router_id} has no interface on subnet {subnet_id}.")


class RouterInterfaceNotFound(NotFound):
    def __init__(self, router_id: str, port_id: str) -> None:
        super().__init__(f"Router {router_id} does not have an interface with id {port_id}.")


class PortInUse(Conflict):
    def __init__(self, network_id: str, port_id: str, device_id: str) -> None:
        super().__init__(
            f"Unable to complete operation on port {port_id} for network {network_id}. "
            f"Port already has an attached device {device_id}."
        )


class IpAddressAlreadyAllocated(Conflict):
    def __init__(self, ip_address: str, subnet_id: str) -> None:
        super().__init__(f"IP address {ip_address} already allocated in subnet {subnet_id}")


class IpAddressGenerationFailure(Conflict):
    def __init__(self, network_id: str) -> None:
        super().__init__(f"No more IP addresses available on network {network_id}.")


class MacAddressInUse(Conflict):
    def __init__(self, network_id: str, mac: str) -> None:
        super().__init__(
            f"Unable to complete operation for network {network_id}. "
            f"The mac address {mac} is in use."
        )


class NetworkInUse(Conflict):
    def __init__(self, network_id: str) -> None:
        super().__init__(
            f"Unable to complete operation on network {network_id}. "
            "There are one or more ports still in use on the network."
        )


class SubnetInUse(Conflict):
    def __init__(self, subnet_id: str) -> None:
        super().__init__(
            f"Unable to complete operation on subnet {subnet_id}: "
            "One or more ports have an IP allocation from this subnet."
        )


class RouterInUse(Conflict):
    def __init__(self, router_id: str) -> None:
        super().__init__(f"Router {router_id} still has ports")


class RouterExternalGatewayInUseByFloatingIp(Conflict):
    def __init__(self, router_id: str, network_id: str) -> None:
        super().__init__(
            f"Gateway cannot be updated for router {router_id}, since a gateway to external "
            f"network {network_id} is required by one or more floating IPs."
        )


class FloatingIPPortAlreadyAssociated(Conflict):
    def __init__(self, port_id: str, floating_ip: str) -> None:
        super().__init__(f"Port {port_id} is already associated with floating IP {floating_ip}.")


class SecurityGroupInUse(Conflict):
    def __init__(self, group_id: str) -> None:
        super().__init__(f"Security Group {group_id} in use.")


class SecurityGroupCannotRemoveDefault(Conflict):
    message = "Insufficient rights for removing default security group."


class SecurityGroupRuleExists(Conflict):
    def __init__(self, rule_id: str) -> None:
        super().__init__(f"Security group rule already exists. Rule id is {rule_id}.")


class NetworkAmbiguous(Conflict):
    message = "Multiple possible networks found, use a Network ID to be more specific."


class OverlappingCidr(BadRequest):
    """Neutron: 400 InvalidInput for a subnet overlapping another on the network."""

    def __init__(self, cidr: str, other_id: str, other_cidr: str) -> None:
        super().__init__(
            f"Invalid input for operation: Requested subnet with cidr: {cidr} for network "
            f"overlaps with another subnet ({other_id}, {other_cidr})."
        )


class OverQuota(Conflict):
    def __init__(self, resource: str) -> None:
        super().__init__(f"Quota exceeded for resources: ['{resource}'].")


class VifPlugTimeout(OneStackError):
    def __init__(self, server_id: str, timeout_s: float) -> None:
        super().__init__(
            f"The ports of server {server_id} were not plugged within {timeout_s:g} s."
        )


class FlatNetworkInUse(Conflict):
    def __init__(self, physical_network: str) -> None:
        super().__init__(
            f"Unable to create the flat network. Physical network {physical_network} is in use."
        )


class TunnelIdInUse(Conflict):
    def __init__(self, tunnel_id: int) -> None:
        super().__init__(f"Unable to create the network. The tunnel ID {tunnel_id} is in use.")


class NoNetworkAvailable(OneStackError):
    status = 503
    title = "Service Unavailable"
    message = "Unable to create the network. No tenant network is available for allocation."


class ServicePortInUse(Conflict):
    def __init__(self, port_id: str, device_owner: str) -> None:
        super().__init__(
            f"Port {port_id} cannot be deleted directly via the port API: has device owner "
            f"{device_owner}."
        )


class SecurityGroupDefaultAlreadyExists(Conflict):
    message = "Default security group already exists."


class SecurityGroupCannotUpdateDefault(Conflict):
    message = "Updating default security group not allowed."


class SecurityGroupRuleInvalidProtocol(BadRequest):
    def __init__(self, protocol: str, values: list[str]) -> None:
        super().__init__(
            f"Security group rule protocol {protocol} not supported. Only protocol values "
            f"{values} and integer representations [0 to 255] are supported."
        )


class PortSecurityAndIPRequiredForSecurityGroups(BadRequest):
    message = (
        "Port security must be enabled and port must have an IP address in order to use "
        "security groups."
    )


class NoAutoNetwork(BadRequest):
    def __init__(self, project_id: str) -> None:
        super().__init__(
            f"No network is available to project {project_id} for automatic allocation."
        )


class DuplicateSecurityGroupName(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"Multiple security_group matches found for name '{name}', "
            "use an ID to be more specific."
        )


class TagNotFound(NotFound):
    def __init__(self, resource_id: str, tag: str) -> None:
        super().__init__(f"Tag {tag} could not be found for resource {resource_id}.")


class BadRouterRequest(BadRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Bad router request: {reason}")


class SubnetMismatchForPort(BadRequest):
    def __init__(self, port_id: str, subnet_id: str) -> None:
        super().__init__(
            f"Subnet on port {port_id} does not match the requested subnet {subnet_id}."
        )


class RouterInterfaceInUseByFloatingIP(Conflict):
    def __init__(self, router_id: str, floating_ip_id: str) -> None:
        super().__init__(
            f"Router interface for subnet on router {router_id} cannot be deleted, as it is "
            f"required by one or more floating IPs ({floating_ip_id})."
        )


class BadFloatingIpRequest(BadRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Bad floatingip request: {reason}")


class QuotasNotWritable(BadRequest):
    message = "This service cannot change limits: set them in identity's unified limits."


class NoRegisteredLimit(BadRequest):
    def __init__(self, resource: str) -> None:
        super().__init__(
            f"No registered limit for network resource '{resource}': register a default "
            "(openstack registered limit create --service network ...) before setting "
            "project quotas."
        )


class InvalidQuotaValue(BadRequest):
    def __init__(self, resource: str, limit: int, used: int) -> None:
        super().__init__(
            f"Change would make usage less than 0 for the following resources: {resource} "
            f"(limit {limit}, in use {used})."
        )
