"""Invoices: one, an account's (optionally unpaid only), external charges, commit, void, item adjustments."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from uuid import UUID

from killbill_client.errors import NotFoundError
from killbill_client.models import ExternalCharge, Invoice, InvoiceItem
from killbill_client.models.base import PluginProperties, properties_to_query
from killbill_client.service import Service
from killbill_client.transport import paths


class InvoiceService(Service):
    def get(self, invoice_id: UUID, *, with_children_items: bool = False) -> Invoice:
        """Items are always included in 0.24."""
        data = self._transport.get_json(paths("invoices", invoice_id), {"withChildrenItems": with_children_items})
        return self._parse(Invoice, data)

    def list_for_account(self, account_id: UUID, *, unpaid_only: bool = False, include_voided: bool = False,
                         start_date: date | None = None, end_date: date | None = None,
                         invoice_ids: Iterable[UUID] | None = None) -> list[Invoice]:
        query = {"unpaidInvoicesOnly": unpaid_only, "includeVoidedInvoices": include_voided,
                 "startDate": start_date, "endDate": end_date,
                 "invoicesFilter": ",".join(str(i) for i in invoice_ids) if invoice_ids else None}
        return self._parse_list(Invoice, self._transport.get_json(paths("accounts", account_id, "invoices"), query))

    def create_external_charges(self, account_id: UUID, charges: Iterable[ExternalCharge], *,
                                auto_commit: bool = True, requested_date: date | None = None,
                                plugin_properties: PluginProperties = None, reason: str | None = None,
                                comment: str | None = None) -> list[InvoiceItem]:
        """Invoice charges without a catalog. With ``auto_commit`` the invoice is COMMITTED (auto-pay runs).

        Kill Bill 0.24 answers 200 with the created items (its swagger says 201).
        """
        body = [self._charge_body(account_id, charge) for charge in charges]
        query = {"autoCommit": auto_commit, "requestedDate": requested_date,
                 "pluginProperty": properties_to_query(plugin_properties)}
        response = self._transport.write("POST", paths("invoices", "charges", account_id), query=query, body=body,
                                         reason=reason, comment=comment)
        return self._parse_list(InvoiceItem, self._transport.follow(response))

    def commit(self, invoice_id: UUID, *, reason: str | None = None, comment: str | None = None) -> None:
        """DRAFT → COMMITTED; a committed invoice with a balance triggers auto-pay."""
        self._transport.write("PUT", paths("invoices", invoice_id, "commitInvoice"), reason=reason, comment=comment)

    def void(self, invoice_id: UUID, *, reason: str | None = None, comment: str | None = None) -> None:
        """VOID: the invoice owes nothing and is no longer paid. Refused once money was paid on it (unless all
        refunded) or when it is VOID already. Kill Bill posts INVOICE_ADJUSTMENT."""
        self._transport.write("PUT", paths("invoices", invoice_id, "voidInvoice"), reason=reason, comment=comment)

    def adjust_item(self, invoice_id: UUID, account_id: UUID, invoice_item_id: UUID, *,
                    amount: Decimal | None = None, currency: str | None = None, description: str | None = None,
                    item_details: str | None = None, requested_date: date | None = None,
                    plugin_properties: PluginProperties = None, reason: str | None = None,
                    comment: str | None = None) -> Invoice | None:
        """An ITEM_ADJ item taking ``amount`` (all that is left of the item when None) off the invoice; the
        invoice as it now is, or None when nothing was left to adjust. Kill Bill posts INVOICE_ADJUSTMENT for a
        committed invoice; what was already paid beyond the new amount becomes account credit."""
        body = {"invoiceItemId": invoice_item_id, "accountId": account_id, "amount": amount, "currency": currency,
                "description": description, "itemDetails": item_details}
        query = {"requestedDate": requested_date, "pluginProperty": properties_to_query(plugin_properties)}
        try:
            _, data = self._transport.create("POST", paths("invoices", invoice_id), query=query,
                                             body={k: v for k, v in body.items() if v is not None}, reason=reason,
                                             comment=comment)
        except NotFoundError as exc:
            if exc.body is None:  # InvoiceResource#adjustInvoiceItem: a bare 404 when nothing was adjusted
                return None
            raise
        return self._parse(Invoice, data)

    @staticmethod
    def _charge_body(account_id: UUID, charge: ExternalCharge) -> dict:
        # The swagger marks invoiceItemId required; Kill Bill assigns it, so it is sent as null.
        return {"invoiceItemId": None, "accountId": account_id, **charge.to_wire()}
