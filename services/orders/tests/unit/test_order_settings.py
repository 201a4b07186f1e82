"""The order settings rules of product.md §2 and the use cases that apply them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bridge_orders.app.manage_settings import UpdateOrderSettingsRequest
from bridge_orders.bootstrap import Services
from bridge_orders.domain.settings import OrderSettings, TenantOrderSettings, parse_sync_from
from bridge_platform.errors import InvalidInput

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # the conftest's FixedClock
EARLIER = datetime(2026, 1, 1, tzinfo=UTC)


def codes(settings: OrderSettings) -> list[tuple[str, str]]:
    return [(v.field, v.code) for v in settings.violations()]


def test_defaults_are_those_of_the_product_definition(services: Services) -> None:
    settings = services.get_settings("tenant-a")

    assert settings == OrderSettings(
        sync_automatically=False,
        sync_from=None,
        create_orders=True,
        create_invoice=False,
        sync_items_without_relation=False,
        send_invoice_email=False,
        unit_source="base_unit",
        unit_attribute=None,
        language="customer_else_en",
        shipping="freight",
        shipping_article_number=None,
        sales_accounts={},
        send_when="placed",
        register_payments=False,
        modes_of_payment={},
        follow_cancellations=True,
        follow_refunds=True,
    )
    assert settings.violations() == []


# -- choices ---------------------------------------------------------------------------------------

CHOICES = {
    "unit_source": ["base_unit", "attribute"],
    "language": ["always_en", "always_sv", "customer_else_en", "customer_else_sv"],
    "shipping": ["freight", "order_row"],
    "send_when": ["placed", "paid"],
}


@pytest.mark.parametrize(("name", "value"), [(name, value) for name, values in CHOICES.items() for value in values])
def test_every_listed_choice_is_accepted(name: str, value: str) -> None:
    extra = {"unit_attribute": "Unit"} if value == "attribute" else {}

    assert OrderSettings(**{name: value, **extra}).violations() == []  # type: ignore[arg-type]


@pytest.mark.parametrize("name", list(CHOICES))
@pytest.mark.parametrize("value", ["", "other", "FREIGHT", " paid"])
def test_an_unknown_choice_is_an_invalid_choice(name: str, value: str) -> None:
    assert codes(OrderSettings(**{name: value})) == [(f"orders.{name}", "invalid_choice")]  # type: ignore[arg-type]


# -- unit attribute --------------------------------------------------------------------------------


@pytest.mark.parametrize("attribute", [None, "", "   "])
def test_the_attribute_unit_source_requires_an_attribute_name(attribute: str | None) -> None:
    settings = OrderSettings(unit_source="attribute", unit_attribute=attribute)

    assert codes(settings) == [("orders.unit_attribute", "required")]


@pytest.mark.parametrize("unit_source", ["attribute", "base_unit"])
def test_an_attribute_name_is_accepted_with_either_unit_source(unit_source: str) -> None:
    assert OrderSettings(unit_source=unit_source, unit_attribute="Birim").violations() == []


@pytest.mark.parametrize("attribute", ["", "  ", " Birim", "Birim ", "x" * 201])
def test_a_blank_padded_or_overlong_attribute_name_is_an_invalid_value(attribute: str) -> None:
    assert codes(OrderSettings(unit_attribute=attribute)) == [("orders.unit_attribute", "invalid_value")]


# -- shipping article ------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [None, "FRAKT", "1", "x" * 50])
def test_a_shipping_article_number_may_be_null_or_1_to_50_characters(number: str | None) -> None:
    assert OrderSettings(shipping_article_number=number).violations() == []


@pytest.mark.parametrize("number", ["", " ", " FRAKT", "FRAKT ", "x" * 51])
def test_a_bad_shipping_article_number_is_refused(number: str) -> None:
    settings = OrderSettings(shipping_article_number=number)

    assert codes(settings) == [("orders.shipping_article_number", "invalid_article_number")]


# -- sales accounts --------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", ["25", "12", "6", "0", "12.5", "99.99", "0.01"])
def test_vat_rates_are_decimal_percentages(rate: str) -> None:
    assert OrderSettings(sales_accounts={rate: 3001}).violations() == []


@pytest.mark.parametrize("rate", ["100", "-1", "abc", "12.345", "", " 25", "25 ", "1e1", "25.", ".5", "NaN", "12,5"])
def test_a_key_that_is_no_vat_rate_is_refused(rate: str) -> None:
    assert codes(OrderSettings(sales_accounts={rate: 3001})) == [(f"orders.sales_accounts.{rate}", "invalid_vat_rate")]


def test_two_spellings_of_one_vat_rate_are_a_duplicate() -> None:
    settings = OrderSettings(sales_accounts={"25": 3001, "25.0": 3002, "12": 3003})

    assert codes(settings) == [("orders.sales_accounts.25.0", "duplicate_vat_rate")]


@pytest.mark.parametrize("account", [1000, 3001, 9999])
def test_accounts_are_four_digit_numbers(account: int) -> None:
    assert OrderSettings(sales_accounts={"25": account}).violations() == []


@pytest.mark.parametrize("account", [0, 999, 10000, -3001])
def test_an_account_outside_1000_to_9999_is_refused(account: int) -> None:
    assert codes(OrderSettings(sales_accounts={"25": account})) == [("orders.sales_accounts.25", "invalid_account")]


# -- modes of payment ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["CREDIT_CARD", "PAYPAL", "A", "BANK_TRANSFER_2", "X" * 50])
@pytest.mark.parametrize("code", ["K", "KORT", "SWISH", "X" * 10])
def test_ikas_payment_methods_map_to_fortnox_modes_of_payment(method: str, code: str) -> None:
    assert OrderSettings(modes_of_payment={method: code}).violations() == []


@pytest.mark.parametrize("method", ["credit_card", "Credit_Card", "1CARD", "_CARD", "CREDIT-CARD", "", "X" * 51])
def test_a_key_that_is_no_ikas_payment_method_is_refused(method: str) -> None:
    settings = OrderSettings(modes_of_payment={method: "KORT"})

    assert codes(settings) == [(f"orders.modes_of_payment.{method}", "invalid_payment_method")]


@pytest.mark.parametrize("code", ["", " ", "X" * 11, "KO RT", "KORT\n"])
def test_a_bad_mode_of_payment_is_refused(code: str) -> None:
    settings = OrderSettings(modes_of_payment={"CREDIT_CARD": code})

    assert codes(settings) == [("orders.modes_of_payment.CREDIT_CARD", "invalid_mode_of_payment")]


# -- sync_from -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01T00:00:00+01:00", datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1)))),
        ("2026-01-01T00:00:00Z", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-01t00:00:00z", datetime(2026, 1, 1, tzinfo=UTC)),
        (
            "2026-06-30T23:59:59.5-05:30",
            datetime(2026, 6, 30, 23, 59, 59, 500000, tzinfo=timezone(-timedelta(hours=5.5))),
        ),
    ],
)
def test_sync_from_is_an_rfc3339_date_time_with_offset(text: str, expected: datetime) -> None:
    parsed = parse_sync_from(text)

    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-01",  # a date alone
        "2026-01-01T00:00:00",  # no offset: a local time of no known zone
        "2026-01-01 00:00:00+01:00",
        "2026-02-30T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "20260101T000000Z",
        "2026-01-01T00:00:00+0100",
        "tomorrow",
        "",
    ],
)
def test_anything_else_is_an_invalid_datetime(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_sync_from(text)

    assert [(v.field, v.code) for v in refused.value.violations] == [("orders.sync_from", "invalid_datetime")]


def test_a_naive_sync_from_is_an_invalid_datetime() -> None:
    assert codes(OrderSettings(sync_from=datetime(2026, 1, 1))) == [("orders.sync_from", "invalid_datetime")]


def test_first_enabling_automatic_sync_sets_sync_from_to_now() -> None:
    enabled = OrderSettings(sync_automatically=True)

    assert enabled.saved_over(None, NOW).sync_from == NOW
    assert enabled.saved_over(OrderSettings(), NOW).sync_from == NOW


def test_a_save_while_automatic_sync_already_was_on_leaves_sync_from_null() -> None:
    previous = OrderSettings(sync_automatically=True, sync_from=EARLIER)

    assert OrderSettings(sync_automatically=True).saved_over(previous, NOW).sync_from is None


def test_an_explicit_sync_from_is_kept() -> None:
    assert OrderSettings(sync_automatically=True, sync_from=EARLIER).saved_over(None, NOW).sync_from == EARLIER
    assert OrderSettings(sync_from=EARLIER).saved_over(None, NOW).sync_from == EARLIER


def test_a_save_with_automatic_sync_off_leaves_sync_from_null() -> None:
    previous = OrderSettings(sync_automatically=True)

    assert OrderSettings().saved_over(None, NOW).sync_from is None
    assert OrderSettings().saved_over(previous, NOW).sync_from is None


def test_sync_from_is_stored_in_utc() -> None:
    stockholm = parse_sync_from("2026-01-01T00:00:00+01:00")

    saved = OrderSettings(sync_from=stockholm).saved_over(None, NOW).sync_from

    assert saved == stockholm
    assert saved is not None
    assert saved.tzinfo == UTC


def test_vat_rates_are_stored_in_canonical_form() -> None:
    settings = OrderSettings(sales_accounts={"25.0": 3001, "12.50": 3002, "0.00": 3003, "6": 3004})

    saved = settings.saved_over(None, NOW)

    assert saved.sales_accounts == {"25": 3001, "12.5": 3002, "0": 3003, "6": 3004}
    assert settings.sales_accounts == {"25.0": 3001, "12.50": 3002, "0.00": 3003, "6": 3004}  # never mutated


def test_every_bad_field_is_reported_at_once_in_document_order() -> None:
    settings = OrderSettings(
        unit_source="attribute",
        language="tr",
        shipping="",
        shipping_article_number="",
        sales_accounts={"abc": 3001, "25": 1},
        send_when="never",
        modes_of_payment={"card": "KORT", "PAYPAL": ""},
    )

    assert codes(settings) == [
        ("orders.unit_attribute", "required"),
        ("orders.language", "invalid_choice"),
        ("orders.shipping", "invalid_choice"),
        ("orders.shipping_article_number", "invalid_article_number"),
        ("orders.sales_accounts.25", "invalid_account"),
        ("orders.sales_accounts.abc", "invalid_vat_rate"),
        ("orders.send_when", "invalid_choice"),
        ("orders.modes_of_payment.PAYPAL", "invalid_mode_of_payment"),
        ("orders.modes_of_payment.card", "invalid_payment_method"),
    ]


# -- use cases -------------------------------------------------------------------------------------

FULL = OrderSettings(
    sync_automatically=True,
    sync_from=EARLIER,
    create_orders=False,
    create_invoice=True,
    sync_items_without_relation=True,
    send_invoice_email=True,
    unit_source="attribute",
    unit_attribute="Birim",
    language="customer_else_sv",
    shipping="order_row",
    shipping_article_number="FRAKT",
    sales_accounts={"25": 3001, "12.5": 3002},
    send_when="paid",
    register_payments=True,
    modes_of_payment={"CREDIT_CARD": "KORT"},
    follow_cancellations=False,
    follow_refunds=False,
)


def test_update_stores_the_whole_document(
    services: Services, stored: Callable[[str], TenantOrderSettings | None]
) -> None:
    returned = services.update_settings(UpdateOrderSettingsRequest("tenant-a", FULL))

    assert returned == FULL
    assert services.get_settings("tenant-a") == FULL
    assert services.get_settings("tenant-b") == OrderSettings()
    saved = stored("tenant-a")
    assert saved is not None
    assert saved.updated_at == NOW


def test_update_returns_what_is_stored(services: Services) -> None:
    sent = OrderSettings(sync_automatically=True, sales_accounts={"25.00": 3001})

    returned = services.update_settings(UpdateOrderSettingsRequest("tenant-a", sent))

    assert returned == OrderSettings(sync_automatically=True, sync_from=NOW, sales_accounts={"25": 3001})
    assert services.get_settings("tenant-a") == returned


def test_sync_from_is_set_only_when_automatic_sync_is_first_switched_on(services: Services) -> None:
    services.update_settings(UpdateOrderSettingsRequest("tenant-a", OrderSettings()))
    assert services.get_settings("tenant-a").sync_from is None

    services.update_settings(UpdateOrderSettingsRequest("tenant-a", OrderSettings(sync_automatically=True)))
    assert services.get_settings("tenant-a").sync_from == NOW

    # The merchant cleared it while automation stayed on: null is what they asked for.
    services.update_settings(UpdateOrderSettingsRequest("tenant-a", OrderSettings(sync_automatically=True)))
    assert services.get_settings("tenant-a").sync_from is None


def test_a_later_update_replaces_the_stored_document(services: Services) -> None:
    services.update_settings(UpdateOrderSettingsRequest("tenant-a", FULL))

    services.update_settings(UpdateOrderSettingsRequest("tenant-a", OrderSettings(language="always_en")))

    assert services.get_settings("tenant-a") == OrderSettings(language="always_en")


def test_invalid_settings_are_refused_before_anything_is_written(
    services: Services, commits: Callable[[], int]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.update_settings(UpdateOrderSettingsRequest("tenant-a", OrderSettings(send_when="shipped")))

    assert [(v.field, v.code) for v in refused.value.violations] == [("orders.send_when", "invalid_choice")]
    assert commits() == 0
    assert services.get_settings("tenant-a") == OrderSettings()


def test_validate_writes_nothing(services: Services, commits: Callable[[], int]) -> None:
    with pytest.raises(InvalidInput):
        services.validate_settings("tenant-a", OrderSettings(modes_of_payment={"CREDIT_CARD": " "}))
    services.validate_settings("tenant-a", FULL)

    assert commits() == 0


@pytest.mark.parametrize("tenant_id", ["", " "])
def test_a_tenant_is_required(services: Services, commits: Callable[[], int], tenant_id: str) -> None:
    with pytest.raises(InvalidInput):
        services.get_settings(tenant_id)
    with pytest.raises(InvalidInput):
        services.validate_settings(tenant_id, OrderSettings())
    with pytest.raises(InvalidInput):
        services.update_settings(UpdateOrderSettingsRequest(tenant_id, OrderSettings()))

    assert commits() == 0
