"""What every encoder needs to know about a service's modeled errors.

A handler raises ``ServiceError(code, ...)`` with the code botocore reports. When that
code names a modeled error shape (by its ``error.code`` or its shape name, as botocore's
own lookup does), the error's `fields` are rendered as that shape's members, so the SDK's
modeled exception carries them.
"""

from __future__ import annotations

from botocore.model import Shape

from cloudlet.protocol.model import ServiceModel


class ErrorShapes:
    """Code -> error shape, built on the first error a service encodes (not per request)."""

    def __init__(self, service: ServiceModel) -> None:
        self._service = service
        self._by_code: dict[str, Shape] | None = None
        self._names: dict[str, str] = {}

    def _table(self) -> dict[str, Shape]:
        table: dict[str, Shape] = {}
        codes: dict[str, Shape] = {}
        for shape in self._service.error_shapes:
            table[shape.name] = shape
            codes[shape.error_code] = shape
        table.update(codes)  # botocore resolves by error code; the code wins over a name
        self._by_code = table
        return table

    def shape_for(self, code: str) -> Shape | None:
        table = self._by_code
        if table is None:
            table = self._table()
        return table.get(code)


def message_member(shape: Shape | None) -> str | None:
    """The member that carries the error message (``message`` or ``Message``), if any."""
    if shape is None:
        return None
    for name in shape.members:
        if name.lower() == "message":
            return str(name)
    return None


def fault(sender: bool) -> str:
    return "Sender" if sender else "Receiver"
