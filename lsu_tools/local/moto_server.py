"""moto server, as the embedded local emulator, with two fixes that bring its DynamoDB closer to
the real service (nothing of our application code is changed by them).

1. Atomicity. moto serves requests on several threads but its DynamoDB backend takes no lock: two
   concurrent `UpdateItem … ADD` on one item can lose an increment, and two transactions can
   interleave between their condition checks and their writes. DynamoDB guarantees neither can
   happen, and the pipeline relies on it (atomic counters, conditional writes). Every DynamoDB
   write and read of the backend is serialised here by one lock.
2. Cost. moto 5.2's TransactWriteItems deep-copies every table it touches before each
   transaction, to roll back on cancellation: an import of N bilans then costs O(N²) and the
   emulator dominates. Here only the items the transaction touches are backed up and restored —
   the same all-or-nothing semantics at O(items)."""
from __future__ import annotations

import copy
import functools
import sys
import threading


def _key(table, op_type: str, op: dict):
    from moto.dynamodb.models.dynamo_type import DynamoType
    attrs = op["Item"] if op_type == "Put" else op["Key"]
    hash_key = DynamoType(attrs[table.hash_key_attr])
    range_key = DynamoType(attrs[table.range_key_attr]) if table.has_range_key else None
    return hash_key, range_key


def _snapshot(backend, transact_items: list[dict]) -> list[tuple]:
    snaps = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        if table is None:
            continue
        try:
            hash_key, range_key = _key(table, op_type, op)
        except KeyError:
            continue  # moto itself reports the malformed request
        snaps.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    return snaps


def _restore(snaps: list[tuple]) -> None:
    for table, hash_key, range_key, item in reversed(snaps):
        if range_key is None:
            if item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
        elif item is None:
            table.items[hash_key].pop(range_key, None)
        else:
            table.items[hash_key][range_key] = item


_LOCK = threading.RLock()
_SERIALISED = ("put_item", "update_item", "delete_item", "get_item", "query", "scan", "transact_write_items",
               "transact_get_items")


def _serialised(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with _LOCK:
            return method(*args, **kwargs)
    return wrapper


def patch_dynamodb() -> None:
    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    class _CopyWithoutTables:
        """Stands for `copy` inside moto.dynamodb.models: tables are not deep-copied."""
        @staticmethod
        def deepcopy(obj, memo=None):
            return obj if isinstance(obj, Table) else copy.deepcopy(obj, memo)

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        snaps = _snapshot(self, transact_items)
        try:
            return original(self, transact_items)
        except Exception:
            _restore(snaps)
            raise

    models.copy = _CopyWithoutTables
    models.DynamoDBBackend.transact_write_items = transact_write_items
    for name in _SERIALISED:
        if hasattr(models.DynamoDBBackend, name):
            setattr(models.DynamoDBBackend, name, _serialised(getattr(models.DynamoDBBackend, name)))


def main(argv: list[str] | None = None) -> None:
    patch_dynamodb()
    from moto.server import main as moto_main
    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
