"""AWS Identity and Access Management: users, groups, roles, managed and inline policies,
access keys, instance profiles, identity providers, passwords and MFA, simulation.

A global service: state is per account under region "". Module map: the handlers are
``users``, ``groups``, ``roles``, ``managed`` (customer managed policies and versions),
``inline``, ``attach``, ``keys``, ``profiles`` (instance profiles), ``providers`` (OIDC and
SAML), ``passwords`` (password policy, login profiles), ``mfa``, ``account`` (aliases,
summary, credential report, authorization details) and ``simulate``; ``model``,
``storage``, ``views``, ``documents``, ``policies``, ``awsmanaged`` (AWS managed
policies) and ``totp`` are the pieces they share. ``principals`` is what the request path
asks IAM directly (access key lookup, identity and trust policies, MFA codes).
"""

from __future__ import annotations

MODULES = [
    "users", "groups", "roles", "managed", "inline", "attach", "keys", "profiles", "providers",
    "passwords", "mfa", "account", "simulate",
]
