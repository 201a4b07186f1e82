"""The per-order actions on the documents (product.md §5 "Actions", §8): create the invoice, attach the PDF,
resend the e-mail, download the PDF.

Each takes the tenant and the ikas order id, raises NotFound for an order Bridge does not know, and Conflict
(FAILED_PRECONDITION) when the step cannot run now: no Fortnox order or invoice yet, another worker on the order,
a paused connection. Otherwise it returns the updated record, whose error and timeline say how the step went.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge_orders.app.document_steps import DocumentSteps, StepResult
from bridge_orders.app.ports import FortnoxInvoices, UnitOfWorkFactory
from bridge_orders.domain.order_record import OrderRecord, StepNotPossible
from bridge_orders.domain.settings import OrderSettings
from bridge_platform.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class InvoicePdf:
    pdf: bytes
    filename: str


class _Action:
    def __init__(self, uow_for: UnitOfWorkFactory, steps: DocumentSteps) -> None:
        self._uow_for, self._steps = uow_for, steps

    def _load(self, tenant_id: str, ikas_order_id: str) -> tuple[OrderRecord, OrderSettings]:
        if not tenant_id.strip() or not ikas_order_id.strip():
            raise InvalidInput("tenant_id and the order id are required")
        with self._uow_for(tenant_id) as uow:
            record = uow.orders.get(ikas_order_id)
            stored = uow.settings.get()
        if record is None:
            raise NotFound(f"no order {ikas_order_id} is known to Bridge")
        return record, stored.settings if stored else OrderSettings()

    def _finish(self, tenant_id: str, ikas_order_id: str, results: list[StepResult]) -> OrderRecord:
        for result in results:
            if result.refusal is not None:
                raise result.refusal
        record, _ = self._load(tenant_id, ikas_order_id)
        return record


def _needs_invoice(record: OrderRecord) -> None:
    if record.fortnox_order_number is None:
        raise StepNotPossible(record.ikas_order_id, "the order is not in Fortnox yet: send it first")
    if record.fortnox_invoice_number is None:
        raise StepNotPossible(record.ikas_order_id, "the Fortnox order has no invoice yet: create the invoice first")


class CreateInvoiceNow(_Action):
    """Creates the invoice from the Fortnox order now, whatever orders.create_invoice says, then what follows it
    per the settings (the e-mail, the PDF); an existing invoice is found, never made twice."""

    def __call__(self, tenant_id: str, ikas_order_id: str) -> OrderRecord:
        record, settings = self._load(tenant_id, ikas_order_id)
        if record.fortnox_order_number is None:
            raise StepNotPossible(record.ikas_order_id, "the order is not in Fortnox yet: send it first")
        results = self._steps.follow_up(tenant_id, ikas_order_id, settings, invoice=True)
        return self._finish(tenant_id, ikas_order_id, results)


class AttachInvoicePdfNow(_Action):
    """Attaches the invoice PDF to the ikas order now, unless ikas lists it there already (Order.invoices)."""

    def __call__(self, tenant_id: str, ikas_order_id: str) -> OrderRecord:
        record, settings = self._load(tenant_id, ikas_order_id)
        _needs_invoice(record)
        result = self._steps.attach_pdf(tenant_id, ikas_order_id, settings, again=True)
        return self._finish(tenant_id, ikas_order_id, [result])


class ResendInvoiceEmail(_Action):
    """Asks Fortnox to e-mail the invoice again: the only way an e-mail is requested a second time."""

    def __call__(self, tenant_id: str, ikas_order_id: str) -> OrderRecord:
        record, _ = self._load(tenant_id, ikas_order_id)
        _needs_invoice(record)
        result = self._steps.send_email(tenant_id, ikas_order_id, again=True)
        return self._finish(tenant_id, ikas_order_id, [result])


class GetInvoicePdf(_Action):
    """The invoice PDF for download (Fortnox's `preview`: downloading does not mark the invoice sent)."""

    def __init__(self, uow_for: UnitOfWorkFactory, steps: DocumentSteps, fortnox: FortnoxInvoices) -> None:
        super().__init__(uow_for, steps)
        self._fortnox = fortnox

    def __call__(self, tenant_id: str, ikas_order_id: str) -> InvoicePdf:
        record, _ = self._load(tenant_id, ikas_order_id)
        _needs_invoice(record)
        number = record.fortnox_invoice_number
        assert number is not None
        return InvoicePdf(self._fortnox.pdf(tenant_id, number, mark_sent=False), f"invoice-{number}.pdf")
