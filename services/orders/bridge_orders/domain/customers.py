"""The Fortnox customer Bridge matched to an ikas buyer, remembered per tenant (product.md §5: "cached per tenant").

A buyer is known by the order's e-mail and, for a company, its organisation number: the same keys the match
uses, compared the same way (the e-mail ignoring case, the organisation number ignoring separators). An entry
says which Fortnox customer the match chose and the VATType Bridge last knew it to have, so a returning buyer
costs no customer call. It is only a shortcut: Fortnox decides. A customer Fortnox no longer knows is forgotten
(the next attempt matches again), and a VATType the order needs is still written to Fortnox before the order.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from bridge_orders.domain.mapping import CustomerDraft

EMAIL: Final = "email"
ORGANISATION_NUMBER: Final = "organisation_number"
KINDS: Final = (EMAIL, ORGANISATION_NUMBER)  # the match's order: the e-mail first


def email_key(email: str) -> str:
    return email.strip().casefold()


def organisation_key(number: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", number).upper()


def buyer_keys(draft: CustomerDraft) -> list[tuple[str, str]]:
    """(kind, key) of the buyer, in the order the match tries them; empty keys are left out."""
    keys: list[tuple[str, str]] = []
    if draft.email and email_key(draft.email):
        keys.append((EMAIL, email_key(draft.email)))
    if draft.organisation_number and organisation_key(draft.organisation_number):
        keys.append((ORGANISATION_NUMBER, organisation_key(draft.organisation_number)))
    return keys


class CachedCustomer:
    """One key of one tenant's buyer -> the Fortnox customer number and its VATType (unique by tenant, kind, key)."""

    def __init__(
        self, *, tenant_id: str, kind: str, key: str, customer_number: str, vat_type: str | None, at: datetime
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown customer key kind {kind}")
        self.tenant_id, self.kind, self.key = tenant_id, kind, key
        self.customer_number, self.vat_type = customer_number, vat_type
        self.updated_at = at

    def says(self, customer_number: str, vat_type: str | None) -> bool:
        return (self.customer_number, self.vat_type) == (customer_number, vat_type)

    def follow(self, customer_number: str, vat_type: str | None, at: datetime) -> None:
        """What the latest match found (another customer, or the VATType Bridge just wrote)."""
        if not self.says(customer_number, vat_type):
            self.customer_number, self.vat_type, self.updated_at = customer_number, vat_type, at
