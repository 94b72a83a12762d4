"""The README's "what works" section and /health's index of implemented operations
(``services/implemented.json``), generated from the code so they cannot drift.

`python -m cloudlet.docs` rewrites the part of README.md between the markers; a test
fails when the committed README differs from what this generates.
"""

from __future__ import annotations

import os
import sys

BEGIN = "<!-- BEGIN GENERATED: services -->"
END = "<!-- END GENERATED: services -->"


def services_section() -> str:
    from cloudlet.protocol.model import load_service
    from cloudlet.services.registry import implemented

    lines = [BEGIN, "", "| service | protocol | operations implemented |", "| --- | --- | --- |"]
    for service, ops in sorted(implemented().items()):
        model = load_service(service)
        total = len(model.operation_names)
        protocols = ", ".join(model.metadata.get("protocols") or [model.protocol])
        lines.append(f"| {service} | {protocols} | {len(ops)} of {total}: {', '.join(ops)} |")
    lines.append("")
    for service in sorted(implemented()):
        lines.append(f"- **{service}**: {behaviour(service)}")
    lines += ["", "Every other operation of every service in botocore's models answers `501 NotImplemented`", "naming the service and operation.", "", END]
    return "\n".join(lines)


def behaviour(service: str) -> str:
    """The first paragraph of the service package's docstring: what it does, in a sentence."""
    from cloudlet.services.registry import package

    pkg = package(service)
    doc = (pkg.__doc__ or "").strip() if pkg is not None else ""
    return " ".join(doc.split("\n\n", 1)[0].split()) or "(no description)"


def render(readme: str) -> str:
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    return readme[:start] + services_section() + readme[end:]


def index_text() -> str:
    """The implemented-operations index /health serves (``services/implemented.json``)."""
    import json

    from cloudlet.services.registry import implemented

    return json.dumps(implemented(), indent=1, sort_keys=True) + "\n"


def main() -> int:
    from cloudlet.services.registry import IMPLEMENTED_JSON

    text = index_text()
    with open(IMPLEMENTED_JSON, encoding="utf-8") as f:
        current = f.read()
    if text != current:
        with open(IMPLEMENTED_JSON, "w", encoding="utf-8") as f:
            f.write(text)
        print("services/implemented.json updated", file=sys.stderr)
    path = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")
    with open(path, encoding="utf-8") as f:
        old = f.read()
    new = render(old)
    if new != old:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
        print("README.md updated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
