"""Parameter Store's errors: the modeled codes, with AWS's wording where it is known.

Sources are AWS's API reference (each error shape's documentation) and messages AWS
returns as quoted in public bug reports. Where AWS answers with an empty message
(``ParameterNotFound`` from GetParameter and DeleteParameter), so do we: code that
matches on the message would see the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable

from cloudlet.core.errors import ServiceError

USER_GUIDE_NAMES = "Requirements and constraints for parameter names in the Amazon Web Services Systems Manager User Guide"


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def constraint(value: str | None, member: str, rule: str) -> ServiceError:
    """The Coral form of one failed model constraint (a sensitive value is left out)."""
    shown = "" if value is None else f" '{value}'"
    return validation(f"1 validation error detected: Value{shown} at '{member}' failed to satisfy constraint: {rule}")


def enum(value: str, member: str, allowed: Iterable[str]) -> ServiceError:
    return constraint(value, member, f"Member must satisfy enum value set: [{', '.join(allowed)}]")


def not_found(message: str = "") -> ServiceError:
    return ServiceError("ParameterNotFound", message, 400)


def version_not_found(name: str, version: object) -> ServiceError:
    return ServiceError(
        "ParameterVersionNotFound",
        f"Systems Manager could not find version {version} of {name}. Verify the version and try again.",
        400,
    )


def label_not_found(name: str, label: str) -> ServiceError:
    return ServiceError(
        "ParameterVersionNotFound",
        f"Systems Manager could not find label {label} of {name}. Verify the label and try again.",
        400,
    )


def already_exists() -> ServiceError:
    return ServiceError(
        "ParameterAlreadyExists",
        "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
        400,
    )


def invalid_name() -> ServiceError:
    """AWS's answer for bad characters, a slash without a leading slash, and an "ssm" prefix."""
    return validation(
        "Parameter name: can't be prefixed with \"ssm\" (case-insensitive). If formed as a path, it can consist "
        "of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the "
        "following 3 symbols .-_"
    )


def reserved_name() -> ServiceError:
    return validation("Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).")


def reserved_path(name: str) -> ServiceError:
    return ServiceError("AccessDeniedException", f"No access to reserved parameter name: {name}.", 400)


def hierarchy_too_deep() -> ServiceError:
    return ServiceError(
        "HierarchyLevelLimitExceededException",
        f"A hierarchy can have a maximum of 15 levels. For more information, see {USER_GUIDE_NAMES}.",
        400,
    )


def invalid_path() -> ServiceError:
    # AWS's text carries literal backslashes before the quotes around aws and ssm.
    return validation(
        "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward "
        "slash \"/\". It can't be prefixed with \\\"aws\\\" or \\\"ssm\\\" (case-insensitive). It must use only "
        "letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are "
        "not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: "
        "/get/parameters2-/by1./path0_."
    )


def tags_with_overwrite() -> ServiceError:
    return validation(
        "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove "
        "overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or "
        "RemoveTagsFromResource."
    )


def type_required() -> ServiceError:
    return validation("A parameter type is required when you create a parameter.")


def key_id_without_secure_string() -> ServiceError:
    return validation("KeyId is only valid for SecureString parameters; remove KeyId or use the SecureString type.")


def invalid_allowed_pattern(pattern: str) -> ServiceError:
    return ServiceError(
        "InvalidAllowedPatternException",
        f"The request doesn't meet the regular expression requirement: {pattern}",
        400,
    )


def pattern_mismatch(pattern: str) -> ServiceError:
    return ServiceError(
        "ParameterPatternMismatchException", f"Parameter value, cannot be validated against allowedPattern: {pattern}", 400
    )


def unsupported_data_type(data_type: str) -> ServiceError:
    return validation(f"The following data type is not supported: {data_type} (Data type names are all lowercase.)")


def data_type_change(old: str, new: str) -> ServiceError:
    return validation(f"You can't change the data type of a parameter from {old} to {new}.")


def data_type_needs_string(data_type: str) -> ServiceError:
    return validation(f"The data type {data_type} is supported only for parameters of type String.")


def invalid_ami(value: str) -> ServiceError:
    return validation(f"Parameter value, {value}, is not a valid AMI id.")


def standard_too_large(limit: int) -> ServiceError:
    return validation(
        f"Standard tier parameters support a maximum parameter value of {limit} characters. To create a larger "
        "parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see "
        "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html"
    )


def advanced_too_large(limit: int) -> ServiceError:
    return constraint(None, "value", f"Member must have length less than or equal to {limit}")


def empty_value() -> ServiceError:
    return constraint(None, "value", "Member must have length greater than or equal to 1")


def tier_downgrade() -> ServiceError:
    return validation(
        "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the "
        "advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced "
        "parameter and recreate it as a standard parameter."
    )


def standard_limit(limit: int) -> ServiceError:
    return ServiceError(
        "ParameterLimitExceeded",
        f"You have reached the maximum number of standard parameters for this AWS account and Region ({limit}). "
        "To add more parameters, either delete existing parameters or upgrade to the advanced-parameter tier "
        "(charges apply).",
        400,
    )


def advanced_limit(limit: int) -> ServiceError:
    return ServiceError(
        "ParameterLimitExceeded",
        f"You have reached the maximum number of advanced parameters for this AWS account and Region ({limit}).",
        400,
    )


def max_versions(name: str, oldest: int) -> ServiceError:
    return ServiceError(
        "ParameterMaxVersionLimitExceeded",
        f"You attempted to create a new version of {name} by calling the PutParameter API with the overwrite flag. "
        f"Version {oldest}, the oldest version, can't be deleted because it has a label associated with it. Move "
        "the label to another version of the parameter, and try again.",
        400,
    )


def label_limit() -> ServiceError:
    return ServiceError(
        "ParameterVersionLabelLimitExceeded",
        "A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.",
        400,
    )


def filters_and_parameter_filters() -> ServiceError:
    return validation("You can use either Filters or ParameterFilters in a single request.")


def invalid_filter_key(key: str, valid: Iterable[str]) -> ServiceError:
    return ServiceError(
        "InvalidFilterKey",
        f"The following filter key is not valid: {key}. Valid filter keys include: [{', '.join(valid)}].",
        400,
    )


def duplicate_filter(key: str) -> ServiceError:
    return ServiceError(
        "InvalidFilterKey",
        f"The following filter is duplicated in the request: {key}. A request can contain only one occurrence of a "
        "specific filter.",
        400,
    )


def invalid_filter_option(option: str, valid: Iterable[str]) -> ServiceError:
    return ServiceError(
        "InvalidFilterOption",
        f"The following filter option is not valid: {option}. Valid options include: [{', '.join(valid)}].",
        400,
    )


def missing_filter_values(key: str) -> ServiceError:
    return ServiceError("InvalidFilterValue", f"The following filter values are missing : null for filter key {key}.", 400)


def invalid_filter_value(value: str, valid: Iterable[str]) -> ServiceError:
    return ServiceError(
        "InvalidFilterValue",
        f"The following filter value is not valid: {value}. Valid values include: [{', '.join(valid)}].",
        400,
    )


def reserved_filter_path() -> ServiceError:
    return validation(
        "Filters for common parameters can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). When using "
        "global parameters, please specify within a global namespace."
    )


def invalid_next_token() -> ServiceError:
    return ServiceError("InvalidNextToken", "The specified token isn't valid.", 400)


def invalid_resource_id() -> ServiceError:
    return ServiceError("InvalidResourceId", "The resource ID isn't valid. Verify that you entered the correct ID and try again.", 400)


def too_many_tags() -> ServiceError:
    """The shape's documented text (AWS reuses it for every resource type)."""
    return ServiceError(
        "TooManyTagsError", "The Targets parameter includes too many tags. Remove one or more tags and try again.", 400
    )


def not_implemented(what: str) -> ServiceError:
    """A feature cloudlet does not have yet: say so, never pretend."""
    return ServiceError("NotImplemented", f"cloudlet does not implement {what} yet.", 501, sender_fault=False)
