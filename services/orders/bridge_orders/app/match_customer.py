"""MatchCustomer: the Fortnox customer of an order's buyer (product.md §5, Mapping: Customer).

Matched by exact e-mail, then by organisation number for companies, else created; cached per tenant
(domain/customers.py), so a returning buyer costs no customer call. The cache keeps the match's order: for
each key in turn (the e-mail, then the organisation number) the cached entry answers, else Fortnox's search,
and only when neither key finds a customer is one created. A VATType the order needs that differs from the
one known (cached or read) is written to Fortnox before the order, and the cache follows. A customer Fortnox
no longer knows (UnknownCustomer) is forgotten, so the next attempt matches again.
"""

from __future__ import annotations

from typing import Final

from bridge_orders.app.ports import Clock, ConcurrentWrite, FortnoxCustomers, UnitOfWorkFactory, UnknownCustomer
from bridge_orders.domain.customers import EMAIL, CachedCustomer, buyer_keys
from bridge_orders.domain.mapping import CustomerDraft

REMATCH_HINT: Final = (
    "Send the order again: Bridge matches the buyer again by e-mail or organisation number (or creates the customer)"
)


def customer_gone(refused: UnknownCustomer, number: str) -> UnknownCustomer:
    """The refusal as the order's error says it: which customer, and that the next attempt matches again."""
    return UnknownCustomer(
        refused.upstream,
        f"Fortnox has no customer {number} any more, the customer Bridge had matched to this buyer; Bridge "
        "forgot the match",
        refused.status,
        refused.upstream_code,
        {**refused.extra, "hint": REMATCH_HINT},
    )


class MatchCustomer:
    """The customer number for a buyer; safe to call again at any time (creating happens only when no key
    finds a customer, and a created customer is found by its e-mail or organisation number afterwards)."""

    def __init__(self, uow_for: UnitOfWorkFactory, customers: FortnoxCustomers, clock: Clock) -> None:
        self._uow_for, self._customers, self._clock = uow_for, customers, clock

    def __call__(self, tenant_id: str, draft: CustomerDraft) -> str:
        keys = buyer_keys(draft)
        with self._uow_for(tenant_id) as uow:
            cached = {(kind, key): uow.customers.get(kind, key) for kind, key in keys}
        match: tuple[str, str | None] | None = None
        for kind, key in keys:
            entry = cached[(kind, key)]
            if entry is not None:
                match = (entry.customer_number, entry.vat_type)
            elif kind == EMAIL:
                match = self._customers.find_by_email(tenant_id, draft.email or key)
            else:
                match = self._customers.find_by_organisation_number(tenant_id, draft.organisation_number or key)
            if match is not None:
                break
        vat_type: str | None
        if match is None:
            number, vat_type = self._customers.create(tenant_id, draft), draft.vat_type
        else:
            number, vat_type = match
            if vat_type != draft.vat_type:
                try:
                    self._customers.set_vat_type(tenant_id, number, draft.vat_type)
                except UnknownCustomer as gone:
                    self.forget(tenant_id, number)
                    raise customer_gone(gone, number) from gone
                vat_type = draft.vat_type
        stale = [k for k in keys if (entry := cached[k]) is None or not entry.says(number, vat_type)]
        if stale:
            self._remember(tenant_id, stale, number, vat_type)
        return number

    def forget(self, tenant_id: str, customer_number: str) -> None:
        """Fortnox has no such customer (any more): no key points at it after this."""
        with self._uow_for(tenant_id) as uow:
            uow.customers.forget(customer_number)
            uow.commit()

    def _remember(self, tenant_id: str, keys: list[tuple[str, str]], number: str, vat_type: str | None) -> None:
        at = self._clock.now()
        try:
            with self._uow_for(tenant_id) as uow:
                for kind, key in keys:
                    entry = uow.customers.get(kind, key)
                    if entry is None:
                        uow.customers.add(
                            CachedCustomer(
                                tenant_id=tenant_id,
                                kind=kind,
                                key=key,
                                customer_number=number,
                                vat_type=vat_type,
                                at=at,
                            )
                        )
                    else:
                        entry.follow(number, vat_type, at)
                uow.commit()
        except ConcurrentWrite:
            # Another worker cached the same buyer at the same moment, from the same Fortnox answers; the cache
            # only saves calls, so losing this write costs at most a search next time.
            pass
