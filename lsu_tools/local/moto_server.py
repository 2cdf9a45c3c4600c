"""moto server, as the embedded local emulator, with fixes that bring its DynamoDB and SQS closer
to the real services (nothing of our application code is changed by them).

1. Atomicity. moto serves requests on several threads but its DynamoDB backend takes no lock: two
   concurrent `UpdateItem … ADD` on one item can lose an increment, and two transactions can
   interleave between their condition checks and their writes. DynamoDB guarantees neither can
   happen, and the pipeline relies on it (atomic counters, conditional writes). Every DynamoDB
   write and read of the backend is serialised here by one lock.
2. Cost. moto 5.2's TransactWriteItems deep-copies every table it touches before each
   transaction, to roll back on cancellation: an import of N bilans then costs O(N²) and the
   emulator dominates. Here only the items the transaction touches are backed up and restored —
   the same all-or-nothing semantics at O(items).
3. SQS messages lost. moto 5.2's `Queue.delete_message` rebuilds the queue's message list without
   the lock `add_message` takes: a message sent while another is deleted can vanish (seen here by
   the soak, bench/soak.py: an import stuck at 440/450, one message of 10 bilans gone), and a
   receive walking the list meanwhile can hand out a deleted message again. SQS never loses an
   accepted message: deletes, receives (with their move to the DLQ) and visibility changes of a
   queue are serialised here by that queue's own lock (a Condition on an RLock: a long poll's
   wait releases it)."""
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


def _under_queue_lock(method):
    """A Queue method run under the queue's message lock."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._messages_lock:
            return method(self, *args, **kwargs)
    return wrapper


def _under_named_queue_lock(method):
    """An SQSBackend method on one queue (by name, its first argument) run under that queue's lock."""
    @functools.wraps(method)
    def wrapper(self, queue_name, *args, **kwargs):
        with self.get_queue(queue_name)._messages_lock:
            return method(self, queue_name, *args, **kwargs)
    return wrapper


def patch_sqs() -> None:
    import moto.sqs.models as models
    if getattr(models.Queue.delete_message, "__wrapped__", None) is not None:
        return                                   # patched already (tests patch in-process)
    models.Queue.delete_message = _under_queue_lock(models.Queue.delete_message)
    for name in ("receive_message", "change_message_visibility"):
        setattr(models.SQSBackend, name, _under_named_queue_lock(getattr(models.SQSBackend, name)))


def main(argv: list[str] | None = None) -> None:
    patch_dynamodb()
    patch_sqs()
    from moto.server import main as moto_main
    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
