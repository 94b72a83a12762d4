"""The operations a request may name, each with its input reader compiled on first use.

The query, ec2, json and smithy-rpc-v2-cbor decoders find the operation by name (the
``Action`` field, ``X-Amz-Target``, the path) and then read the input with a reader
compiled for its shape; only how they find the name and read the body differ. The
table is a dict, so a known operation costs one ``get`` per request.
"""

from __future__ import annotations

from collections.abc import Callable

from botocore.model import Shape

from cloudlet.protocol.decode.scalars import Reader
from cloudlet.protocol.model import OperationModel, ServiceModel

Entry = tuple[OperationModel, Reader | None]


class OperationReaders(dict[str, Entry]):
    """``name -> (operation, input reader or None)``; `compile` fills a miss.

    `names` holds every operation of the model: a decoder checks a name against it
    before compiling, so an unknown name never reaches the model.
    """

    def __init__(self, service: ServiceModel, reader: Callable[[Shape], Reader]) -> None:
        super().__init__()
        self.service = service
        self.names = frozenset(service.operation_names)
        self._reader = reader

    def compile(self, name: str) -> Entry:
        op = self.service.operation_model(name)
        shape = op.input_shape
        entry: Entry = (op, None if shape is None else self._reader(shape))
        self[name] = entry
        return entry
