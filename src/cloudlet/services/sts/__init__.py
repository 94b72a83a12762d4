"""AWS Security Token Service. More of STS arrives with the IAM engine."""

MODULES = ["identity"]
