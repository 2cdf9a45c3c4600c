"""moto server, as the embedded local emulator, with one fix for its cost (not its behaviour).

moto 5.2's TransactWriteItems deep-copies every table it touches before each transaction, to
roll back on cancellation: the cost grows with the table, so an import of N bilans costs O(N²)
and the emulator, not the code under test, dominates. Here only the items the transaction
touches are backed up and restored — the same all-or-nothing semantics at O(items)."""
from __future__ import annotations

import copy
import sys


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


def patch_transactions() -> None:
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


def main(argv: list[str] | None = None) -> None:
    patch_transactions()
    from moto.server import main as moto_main
    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
