"""Organizations' errors: the model's shape name as the code, HTTP 400, AWS's words.

Every Organizations exception is a 400 (the JSON 1.1 ``__type`` is the shape name).
Messages are the ones AWS sends where public error reports show them ("Your account
is not a member of an organization.", "You don't have permissions to access this
resource."), else the exception's documented text. ``ConstraintViolationException``
and ``InvalidInputException`` carry a ``Reason`` member, whose wording is the one the
model documents for that reason.
"""

from __future__ import annotations

from cloudlet.core.errors import ServiceError


def _err(code: str, message: str, **fields: str) -> ServiceError:
    return ServiceError(code, message, 400, fields=dict(fields) if fields else None)


def not_in_use() -> ServiceError:
    return _err("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")


def access_denied() -> ServiceError:
    return _err("AccessDeniedException", "You don't have permissions to access this resource.")


def already_in_organization() -> ServiceError:
    return _err(
        "AlreadyInOrganizationException",
        "This account is already a member of an organization. An account can belong to only one organization at a time.",
    )


def not_empty() -> ServiceError:
    return _err(
        "OrganizationNotEmptyException",
        "The organization isn't empty. To delete an organization, you must first remove all accounts except "
        "the management account.",
    )


def account_not_found() -> ServiceError:
    return _err(
        "AccountNotFoundException",
        "We can't find an Amazon Web Services account with the AccountId that you specified, or the account whose "
        "credentials you used to make this request isn't a member of an organization.",
    )


def create_status_not_found() -> ServiceError:
    return _err(
        "CreateAccountStatusNotFoundException",
        "We can't find an create account request with the CreateAccountRequestId that you specified.",
    )


def ou_not_found() -> ServiceError:
    return _err("OrganizationalUnitNotFoundException", "We can't find an OU with the OrganizationalUnitId that you specified.")


def ou_not_empty() -> ServiceError:
    return _err(
        "OrganizationalUnitNotEmptyException",
        "The specified OU is not empty. Move all accounts to another root or to other OUs, remove all child OUs, "
        "and try the operation again.",
    )


def duplicate_ou() -> ServiceError:
    return _err("DuplicateOrganizationalUnitException", "An OU with the same name already exists.")


def parent_not_found() -> ServiceError:
    return _err("ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")


def source_parent_not_found() -> ServiceError:
    return _err("SourceParentNotFoundException", "We can't find a source root or OU with the ParentId that you specified.")


def destination_parent_not_found() -> ServiceError:
    return _err(
        "DestinationParentNotFoundException", "We can't find the destination container (a root or OU) with the ParentId that you specified."
    )


def duplicate_account() -> ServiceError:
    return _err("DuplicateAccountException", "That account is already present in the specified destination.")


def child_not_found() -> ServiceError:
    return _err(
        "ChildNotFoundException",
        "We can't find an organizational unit (OU) or Amazon Web Services account with the ChildId that you specified.",
    )


def root_not_found() -> ServiceError:
    return _err("RootNotFoundException", "We can't find a root with the RootId that you specified.")


def target_not_found() -> ServiceError:
    return _err("TargetNotFoundException", "We can't find a root, OU, account, or policy with the TargetId that you specified.")


def policy_not_found() -> ServiceError:
    return _err("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")


def duplicate_policy() -> ServiceError:
    return _err("DuplicatePolicyException", "A policy with the same name already exists.")


def policy_in_use() -> ServiceError:
    return _err(
        "PolicyInUseException",
        "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts "
        "before performing this operation.",
    )


def duplicate_attachment() -> ServiceError:
    return _err("DuplicatePolicyAttachmentException", "The selected policy is already attached to the specified target.")


def policy_not_attached() -> ServiceError:
    return _err("PolicyNotAttachedException", "The policy isn't attached to the specified target in the specified root.")


def policy_type_not_enabled() -> ServiceError:
    return _err(
        "PolicyTypeNotEnabledException",
        "The specified policy type isn't currently enabled in this root. You can't attach policies of the "
        "specified type to entities in a root until you enable that type in the root.",
    )


def policy_type_already_enabled() -> ServiceError:
    return _err("PolicyTypeAlreadyEnabledException", "The specified policy type is already enabled in the specified root.")


def policy_type_not_available() -> ServiceError:
    return _err(
        "PolicyTypeNotAvailableForOrganizationException",
        "You can't use the specified policy type with the feature set currently enabled for this organization.",
    )


def malformed_policy(message: str) -> ServiceError:
    return _err("MalformedPolicyDocumentException", message)


def effective_policy_not_found() -> ServiceError:
    return _err(
        "EffectivePolicyNotFoundException",
        "If you ran this action on the management account, this policy type is not enabled. If you ran the action "
        "on a member account, the account doesn't have an effective policy of this type.",
    )


def master_cannot_leave() -> ServiceError:
    return _err(
        "MasterCannotLeaveOrganizationException",
        "You can't remove a management account from an organization. If you want the management account to become "
        "a member account in another organization, you must first delete the current organization of the "
        "management account.",
    )


def already_registered() -> ServiceError:
    return _err(
        "AccountAlreadyRegisteredException",
        "The specified account is already a delegated administrator for this Amazon Web Services service.",
    )


def not_registered() -> ServiceError:
    return _err(
        "AccountNotRegisteredException",
        "The specified account is not a delegated administrator for this Amazon Web Services service.",
    )


# Reasons, in the model's words (ConstraintViolationException / InvalidInputException docs)
_CONSTRAINT_TEXT = {
    "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED": "You attempted to detach a policy from an entity that would cause "
    "the entity to have fewer than the minimum number of policies of a certain type required.",
    "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED": "You attempted to exceed the number of policies of a certain type "
    "that can be attached to an entity at one time.",
    "POLICY_CONTENT_LIMIT_EXCEEDED": "You attempted to create a policy that is larger than the maximum size.",
    "OU_DEPTH_LIMIT_EXCEEDED": "You attempted to create an OU tree that is too many levels deep.",
    "MAX_TAG_LIMIT_EXCEEDED": "You have exceeded the number of tags allowed on this resource.",
    "ACCOUNT_CANNOT_LEAVE_ORGANIZATION": "You attempted to remove the management account from the organization. "
    "You can't remove the management account. Instead, after you remove all member accounts, delete the "
    "organization itself.",
    "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR": "You attempted to register the management account of the "
    "organization as a delegated administrator for an Amazon Web Services service integrated with Organizations. "
    "You can designate only a member account as a delegated administrator.",
    "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG": "You attempted to remove an account that is registered as a "
    "delegated administrator for a service integrated with your organization. To complete this operation, you "
    "must first deregister this account as a delegated administrator.",
    "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE": "You attempted to perform an operation that requires the organization "
    "to be configured to support all features.",
}

_INPUT_TEXT = {
    "INVALID_ENUM": "You specified an invalid value.",
    "INVALID_ENUM_POLICY_TYPE": "You specified an invalid policy type string.",
    "INVALID_PATTERN": "You provided a value that doesn't match the required pattern.",
    "INVALID_PATTERN_TARGET_ID": "You specified a policy target ID that doesn't match the required pattern.",
    "INVALID_SYNTAX_POLICY_ID": "You specified an invalid policy ID.",
    "UNRECOGNIZED_SERVICE_PRINCIPAL": "You specified a service principal that isn't recognized.",
    "DUPLICATE_TAG_KEY": "Tag keys must be unique among the tags attached to the same entity.",
    "TARGET_NOT_SUPPORTED": "You can't perform the specified operation on that target entity.",
    "NON_DETACHABLE_POLICY": "You can't detach this Amazon Web Services Managed Policy.",
    "IMMUTABLE_POLICY": "You specified a policy that is managed by Amazon Web Services and can't be modified.",
    "INVALID_NEXT_TOKEN": "You specified an invalid value for the nextToken parameter.",
    "INVALID_ROLE_NAME": "You provided a role name that isn't valid. A role name can't begin with the reserved "
    "prefix AWSServiceRoleFor.",
    "INVALID_EMAIL_ADDRESS_TARGET": "You specified an invalid email address for the invited account owner.",
    "MOVING_ACCOUNT_BETWEEN_DIFFERENT_ROOTS": "You can move an account only between entities in the same root.",
}


def constraint(reason: str) -> ServiceError:
    return _err("ConstraintViolationException", _CONSTRAINT_TEXT[reason], Reason=reason)


def invalid(reason: str) -> ServiceError:
    return _err("InvalidInputException", _INPUT_TEXT[reason], Reason=reason)
