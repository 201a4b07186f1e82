"""The PDF of an invoice (GET /3/invoices/{n}/print and /preview, fact sheet §5.6): a real, parseable PDF made
with fpdf2, with the invoice number, the customer, the rows and the totals. The layout is the sandbox's own."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fpdf import FPDF

from bridge_sandboxes.fortnox.state import Company


def _latin1(value: Any) -> str:
    """fpdf2's core fonts cover Latin-1 (å, ä, ö); anything else becomes '?'."""
    return str(value if value is not None else "").encode("latin-1", "replace").decode("latin-1")


def _amount(value: Any) -> str:
    return f"{Decimal(value or 0):,.2f}".replace(",", " ")


def invoice_pdf(company: Company, invoice: dict[str, Any]) -> bytes:
    credit = invoice.get("Credit") == "true"
    title = "Kreditfaktura" if credit else "Faktura"
    document = FPDF(format="A4")
    document.set_title(f"{title} {invoice['DocumentNumber']}")
    document.set_creator("Fortnox sandbox")
    document.add_page()
    document.set_font("Helvetica", "B", 16)
    document.cell(0, 10, _latin1(f"{title} {invoice['DocumentNumber']}"), new_x="LMARGIN", new_y="NEXT")
    document.set_font("Helvetica", size=10)
    lines = [
        company.name,
        f"Org.nr {company.organisation_number}",
        "",
        f"Kund {invoice['CustomerNumber']}: {invoice.get('CustomerName', '')}",
        invoice.get("Address1") or "",
        f"{invoice.get('ZipCode') or ''} {invoice.get('City') or ''}".strip(),
        "",
        f"Fakturadatum {invoice.get('InvoiceDate')}   Förfallodatum {invoice.get('DueDate')}",
        f"OCR {invoice.get('OCR')}",
    ]
    if invoice.get("YourOrderNumber"):
        lines.append(f"Er ordernummer {invoice['YourOrderNumber']}")
    if credit:
        lines.append(f"Krediterar faktura {invoice.get('CreditInvoiceReference')}")
    for line in lines:
        document.cell(0, 6, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    document.ln(4)
    document.set_font("Helvetica", "B", 10)
    widths = (30, 70, 20, 25, 15, 30)
    for width, heading in zip(widths, ("Artikel", "Benämning", "Antal", "À-pris", "Moms", "Belopp"), strict=True):
        document.cell(width, 7, _latin1(heading), border="B")
    document.ln()
    document.set_font("Helvetica", size=10)
    for row in invoice.get("InvoiceRows", []):
        cells = (
            row.get("ArticleNumber") or "",
            (row.get("Description") or "")[:40],
            row.get("DeliveredQuantity") or "0",
            _amount(row.get("Price")),
            f"{row.get('VAT')} %",
            _amount(row.get("Total")),
        )
        for width, value in zip(widths, cells, strict=True):
            document.cell(width, 6, _latin1(value))
        document.ln()
    document.ln(4)
    totals = [
        ("Netto", invoice.get("Net")),
        ("Frakt", invoice.get("Freight")),
        ("Fakturaavgift", invoice.get("AdministrationFee")),
        ("Moms", invoice.get("TotalVAT")),
        ("Öresavrundning", invoice.get("RoundOff")),
        (f"Att betala {invoice.get('Currency', 'SEK')}", invoice.get("Total")),
    ]
    for label, value in totals:
        document.cell(160, 6, _latin1(label), align="R")
        document.cell(30, 6, _latin1(_amount(value)), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(document.output())
