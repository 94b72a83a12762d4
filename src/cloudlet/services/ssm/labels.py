"""LabelParameterVersion and UnlabelParameterVersion.

A label names one version of a parameter: attaching it to another version moves it.
Labels that break the naming rules are not an error; AWS lists them in InvalidLabels
and attaches the rest.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.ssm import errors, model, records

Input = dict[str, Any]
Output = dict[str, Any]


def label_parameter_version(ctx: Context, req: Input) -> Output:
    """Attach labels to a version (the latest when none is given), moving each from any
    other version that had it."""
    with ctx.tx() as tx:
        record = records.get(tx, model.clean_name(req["Name"]))
        if record is None:
            raise errors.not_found()
        number = req.get("ParameterVersion")
        target = records.current(record) if number is None else records.find_version(record, number)
        valid = [label for label in dict.fromkeys(req["Labels"]) if model.label_ok(label)]
        invalid = [label for label in req["Labels"] if not model.label_ok(label)]
        added = [label for label in valid if label not in target["labels"]]
        if len(target["labels"]) + len(added) > model.MAX_LABELS:
            raise errors.label_limit()
        for ver in record["versions"]:
            if ver is not target:
                ver["labels"] = [label for label in ver["labels"] if label not in added]
        target["labels"] = target["labels"] + added
        records.put(tx, record)
    return {"InvalidLabels": invalid, "ParameterVersion": target["version"]}


def unlabel_parameter_version(ctx: Context, req: Input) -> Output:
    """Detach labels from one version; labels that version does not carry come back in
    InvalidLabels."""
    with ctx.tx() as tx:
        record = records.get(tx, model.clean_name(req["Name"]))
        if record is None:
            raise errors.not_found()
        target = records.find_version(record, req["ParameterVersion"])
        wanted = list(dict.fromkeys(req["Labels"]))
        removed = [label for label in wanted if label in target["labels"]]
        invalid = [label for label in wanted if label not in target["labels"]]
        if removed:
            target["labels"] = [label for label in target["labels"] if label not in removed]
            records.put(tx, record)
    return {"RemovedLabels": removed, "InvalidLabels": invalid}
