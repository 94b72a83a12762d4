"""AWS Organizations: one organization per management account, its tree of OUs and
accounts, policies (SCPs and RCPs checked by the IAM engine, management policies merged
into effective policies), delegated administrators and trusted service access.

Organizations is global and spans accounts: its state lives in the cross-account
partition of its database (``storage``), so a member account reads the organization it
belongs to. Module map: ``organization`` (the organization, its root, policy types),
``accounts`` (CreateAccount and membership), ``units`` (OUs and the tree),
``policies`` (documents and attachments), ``effective`` (management-policy merge),
``delegation`` (delegated administrators, trusted access), ``tags``; ``scps`` is what
the IAM engine calls on every request (``control_policies``, ``org_id``, ``org_paths``).

Handshakes (invitations), CloseAccount, GovCloud accounts, resource policies and
responsibility transfers have no handlers yet.
"""

MODULES = ["organization", "accounts", "units", "policies", "delegation", "tags"]


def reset_caches(gateway: object) -> None:
    """Forget the answers ``scps`` keeps in memory (for a reset that wipes the store
    under them; every Organizations write already does this itself)."""
    from cloudlet.services.organizations import storage

    storage.changed(gateway)
