"""Per-tenant clients of Hyperswitch and Kill Bill, built from the tenant's decrypted credentials.

Hyperswitch calls are audited into ``hyperswitch_calls`` by a background writer: the hook only queues
the (already redacted) record, so a call made while the caller holds a database transaction never
waits on the database itself.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from bridge.db.audit import HyperswitchCall
from bridge.db.engine import session_scope
from bridge.tenancy.service import TenantCredentials
from hyperswitch_client import AuditRecord, HyperswitchClient
from killbill_client import KillBillClient

log = logging.getLogger(__name__)

def _as_document(body: Any) -> dict[str, Any] | None:
    if body is None:
        return None
    return body if isinstance(body, dict) else {"value": body}


class AuditWriter:
    """Batches audit records into the database from one daemon thread per process."""

    def __init__(self, sessions: sessionmaker[Session], *, batch: int = 200) -> None:
        self.sessions = sessions
        self.batch = batch
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=50_000)
        self._thread = threading.Thread(target=self._run, daemon=True, name="hyperswitch-audit")
        self._thread.start()
        atexit.register(self.close)

    def hook(self, kb_tenant_id: str | None):  # type: ignore[no-untyped-def]
        def record(entry: AuditRecord) -> None:
            row = dict(kb_tenant_id=kb_tenant_id, method=entry.method, path=entry.path[:500],
                       status=entry.status, latency_ms=entry.latency_ms, attempt=entry.attempt,
                       error_kind=entry.error_kind.value if entry.error_kind else None,
                       error_code=entry.error_code, request_body=_as_document(entry.request_body),
                       response_body=_as_document(entry.response_body), started_at=entry.started_at)
            try:
                self._queue.put_nowait(row)
            except queue.Full:
                log.warning("audit queue full: dropped the record of %s %s", entry.method, entry.path)
        return record

    def _run(self) -> None:
        while True:
            rows = [self._queue.get()]
            while len(rows) < self.batch and not self._queue.empty():
                rows.append(self._queue.get_nowait())
            closing = None in rows
            self._write([row for row in rows if row is not None])
            for _ in rows:
                self._queue.task_done()
            if closing:
                return

    def _write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        try:
            with session_scope(self.sessions) as session:
                session.execute(insert(HyperswitchCall), rows)
        except Exception:  # noqa: BLE001 - the audit trail must never break a payment
            log.exception("could not write %d Hyperswitch audit record(s)", len(rows))

    def flush(self) -> None:
        """Wait until every queued record is written (tests, shutdown)."""
        self._queue.join()

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=5)


def hyperswitch_client(creds: TenantCredentials, audit: AuditWriter | None = None,
                       **options: Any) -> HyperswitchClient:
    return HyperswitchClient(creds.hs_base_url, creds.hs_api_key, profile_id=creds.hs_profile_id,
                             audit_hook=audit.hook(creds.kb_tenant_id) if audit else None, **options)


def killbill_client(creds: TenantCredentials, **options: Any) -> KillBillClient:
    return KillBillClient(creds.killbill_url, username=creds.kb_username, password=creds.kb_password,
                          api_key=creds.kb_api_key, api_secret=creds.kb_api_secret, **options)
