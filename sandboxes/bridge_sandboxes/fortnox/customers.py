"""Customers: /3/customers and /3/customers/{CustomerNumber} (fact sheet §5.4; scope `customer`).

- POST needs only `Name`; `CustomerNumber` is assigned when left out. A number is never reused, even after
  the customer is deleted: 2000637 (§3, §5.4).
- PUT is a partial update; DELETE answers 204 and keeps the number reserved.
- Lists carry the recorded subset of fields (RB `customers/search_by_name.yml`); one search or filter per
  request, substring and case-insensitive (§4).
- `Type` PRIVATE|COMPANY, `VATType` SEVAT|SEREVERSEDVAT|EUREVERSEDVAT|EUVAT|EXPORT, `CountryCode` ISO 3166-1
  alpha-2 are validated. `Country`, `DeliveryCountry`, `VisitingCountry` are read-only names derived from the
  code fields (§5.4 [H]).
- Defaults are those of a live create (RB `customers/save_new.yml`): Type COMPANY, VATType SEVAT, Currency SEK,
  PriceList A, and null or "" exactly as recorded.

Guesses ([?]): an invalid Type, VATType or CountryCode answers 400 with 2000588 (no code is documented); a
CustomerNumber in a PUT body that differs from the path is refused with 2001399 (it cannot be changed);
`phone` searches Phone1 and Phone2.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from fastapi import APIRouter, Depends, Request, Response

from bridge_sandboxes.fortnox.access import company_for, fortnox_state
from bridge_sandboxes.fortnox.errors import (
    INVALID_FIELD_NAME,
    INVALID_PARAMETER,
    INVALID_VALUE,
    NOT_BOOLEAN,
    READ_ONLY_FIELD,
    FortnoxApiError,
)
from bridge_sandboxes.fortnox.state import Company
from bridge_sandboxes.fortnox.wire import (
    API_BLANK,
    FortnoxRouter,
    changed_since,
    contains,
    json_body,
    one_filter,
    page_of,
    paginate,
    resource_url,
    sort_order,
    to_number,
    unwrap,
)

TABLE: Final = "customers"
CUSTOMER_NOT_FOUND: Final = 2000433  # "Kan inte hitta kunden." (404, RB find_failure)
CUSTOMER_IN_REQUEST_NOT_FOUND: Final = 2000204  # "Kunde inte hämta/hitta kund (kundnummer)" (RS)
CUSTOMER_NUMBER_USED: Final = 2000637  # "Kundnummer N används redan..." (§3)

CUSTOMER_TYPES: Final = frozenset({"PRIVATE", "COMPANY"})
VAT_TYPES: Final = frozenset({"SEVAT", "SEREVERSEDVAT", "EUREVERSEDVAT", "EUVAT", "EXPORT"})
# VAT types under which Fortnox charges no Swedish VAT on the customer's documents [?: the documents' rows
# get VAT 0 for these customers; a reverse charge or an export is VAT-free for the seller].
ZERO_VAT_TYPES: Final = frozenset({"SEREVERSEDVAT", "EUREVERSEDVAT", "EXPORT"})

# ISO 3166-1 alpha-2 (the codes in use).
COUNTRY_CODES: Final = frozenset(
    [
        "AD",
        "AE",
        "AF",
        "AG",
        "AI",
        "AL",
        "AM",
        "AO",
        "AQ",
        "AR",
        "AS",
        "AT",
        "AU",
        "AW",
        "AX",
        "AZ",
        "BA",
        "BB",
        "BD",
        "BE",
        "BF",
        "BG",
        "BH",
        "BI",
        "BJ",
        "BL",
        "BM",
        "BN",
        "BO",
        "BQ",
        "BR",
        "BS",
        "BT",
        "BV",
        "BW",
        "BY",
        "BZ",
        "CA",
        "CC",
        "CD",
        "CF",
        "CG",
        "CH",
        "CI",
        "CK",
        "CL",
        "CM",
        "CN",
        "CO",
        "CR",
        "CU",
        "CV",
        "CW",
        "CX",
        "CY",
        "CZ",
        "DE",
        "DJ",
        "DK",
        "DM",
        "DO",
        "DZ",
        "EC",
        "EE",
        "EG",
        "EH",
        "ER",
        "ES",
        "ET",
        "FI",
        "FJ",
        "FK",
        "FM",
        "FO",
        "FR",
        "GA",
        "GB",
        "GD",
        "GE",
        "GF",
        "GG",
        "GH",
        "GI",
        "GL",
        "GM",
        "GN",
        "GP",
        "GQ",
        "GR",
        "GS",
        "GT",
        "GU",
        "GW",
        "GY",
        "HK",
        "HM",
        "HN",
        "HR",
        "HT",
        "HU",
        "ID",
        "IE",
        "IL",
        "IM",
        "IN",
        "IO",
        "IQ",
        "IR",
        "IS",
        "IT",
        "JE",
        "JM",
        "JO",
        "JP",
        "KE",
        "KG",
        "KH",
        "KI",
        "KM",
        "KN",
        "KP",
        "KR",
        "KW",
        "KY",
        "KZ",
        "LA",
        "LB",
        "LC",
        "LI",
        "LK",
        "LR",
        "LS",
        "LT",
        "LU",
        "LV",
        "LY",
        "MA",
        "MC",
        "MD",
        "ME",
        "MF",
        "MG",
        "MH",
        "MK",
        "ML",
        "MM",
        "MN",
        "MO",
        "MP",
        "MQ",
        "MR",
        "MS",
        "MT",
        "MU",
        "MV",
        "MW",
        "MX",
        "MY",
        "MZ",
        "NA",
        "NC",
        "NE",
        "NF",
        "NG",
        "NI",
        "NL",
        "NO",
        "NP",
        "NR",
        "NU",
        "NZ",
        "OM",
        "PA",
        "PE",
        "PF",
        "PG",
        "PH",
        "PK",
        "PL",
        "PM",
        "PN",
        "PR",
        "PS",
        "PT",
        "PW",
        "PY",
        "QA",
        "RE",
        "RO",
        "RS",
        "RU",
        "RW",
        "SA",
        "SB",
        "SC",
        "SD",
        "SE",
        "SG",
        "SH",
        "SI",
        "SJ",
        "SK",
        "SL",
        "SM",
        "SN",
        "SO",
        "SR",
        "SS",
        "ST",
        "SV",
        "SX",
        "SY",
        "SZ",
        "TC",
        "TD",
        "TF",
        "TG",
        "TH",
        "TJ",
        "TK",
        "TL",
        "TM",
        "TN",
        "TO",
        "TR",
        "TT",
        "TV",
        "TW",
        "TZ",
        "UA",
        "UG",
        "UM",
        "US",
        "UY",
        "UZ",
        "VA",
        "VC",
        "VE",
        "VG",
        "VI",
        "VN",
        "VU",
        "WF",
        "WS",
        "YE",
        "YT",
        "ZA",
        "ZM",
        "ZW",
    ]
)
# The country names Fortnox shows (Swedish); other codes show the code itself [?].
COUNTRY_NAMES: Final = {
    "SE": "Sverige",
    "NO": "Norge",
    "DK": "Danmark",
    "FI": "Finland",
    "IS": "Island",
    "DE": "Tyskland",
    "GB": "Storbritannien",
    "US": "USA",
    "FR": "Frankrike",
    "NL": "Nederländerna",
    "BE": "Belgien",
    "ES": "Spanien",
    "IT": "Italien",
    "PL": "Polen",
    "AT": "Österrike",
    "CH": "Schweiz",
    "EE": "Estland",
    "LV": "Lettland",
    "LT": "Litauen",
    "IE": "Irland",
    "TR": "Turkiet",
}
# EU member states (for the VAT rules of documents and Bridge's VATType choice).
EU_COUNTRIES: Final = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)

# A live create's answer without the @url (RB customers/save_new.yml), plus the newer spec's fields.
DEFAULTS: Final[dict[str, Any]] = {
    "Active": True,
    "Address1": None,
    "Address2": None,
    "City": None,
    "Country": None,
    "Comments": None,
    "Currency": "SEK",
    "CostCenter": None,
    "CountryCode": None,
    "CustomerNumber": "",
    "DefaultDeliveryTypes": {"Invoice": "PRINT", "Order": "PRINT", "Offer": "PRINT"},
    "DefaultTemplates": {
        "Order": "DEFAULTTEMPLATE",
        "Offer": "DEFAULTTEMPLATE",
        "Invoice": "DEFAULTTEMPLATE",
        "CashInvoice": "DEFAULTTEMPLATE",
    },
    "DeliveryAddress1": None,
    "DeliveryAddress2": None,
    "DeliveryCity": None,
    "DeliveryCountry": None,
    "DeliveryCountryCode": None,
    "DeliveryFax": None,
    "DeliveryName": None,
    "DeliveryPhone1": None,
    "DeliveryPhone2": None,
    "DeliveryZipCode": None,
    "Email": "",
    "EmailInvoice": "",
    "EmailInvoiceBCC": "",
    "EmailInvoiceCC": "",
    "EmailOffer": "",
    "EmailOfferBCC": "",
    "EmailOfferCC": "",
    "EmailOrder": "",
    "EmailOrderBCC": "",
    "EmailOrderCC": "",
    "ExternalReference": "",
    "Fax": None,
    "GLN": "",
    "GLNDelivery": "",
    "InvoiceAdministrationFee": None,
    "InvoiceDiscount": None,
    "InvoiceFreight": None,
    "InvoiceRemark": "",
    "Name": "",
    "OrganisationNumber": "",
    "OurReference": "",
    "Phone1": None,
    "Phone2": None,
    "PriceList": "A",
    "Project": "",
    "SalesAccount": None,
    "ShowPriceVATIncluded": False,
    "TermsOfDelivery": "",
    "TermsOfPayment": "",
    "Type": "COMPANY",
    "VATNumber": "",
    "VATType": "SEVAT",
    "VisitingAddress": None,
    "VisitingCity": None,
    "VisitingCountry": None,
    "VisitingCountryCode": None,
    "VisitingZipCode": None,
    "WayOfDelivery": "",
    "WWW": "",
    "YourReference": "",
    "ZipCode": None,
}
READ_ONLY: Final = frozenset({"@url", "Country", "DeliveryCountry", "VisitingCountry"})
WRITABLE: Final = frozenset(DEFAULTS) - READ_ONLY
NUMERIC: Final = frozenset({"InvoiceAdministrationFee", "InvoiceDiscount", "InvoiceFreight"})
BOOLEAN: Final = frozenset({"Active", "ShowPriceVATIncluded"})
# The list subset (RB customers/search_by_name.yml): `Phone` is Phone1 there.
SEARCHES: Final = (
    "customernumber",
    "name",
    "zipcode",
    "city",
    "email",
    "phone",
    "organisationnumber",
    "gln",
    "glndelivery",
)
SEARCH_FIELDS: Final = {
    "customernumber": ("CustomerNumber",),
    "name": ("Name",),
    "zipcode": ("ZipCode",),
    "city": ("City",),
    "email": ("Email",),
    "phone": ("Phone1", "Phone2"),
    "organisationnumber": ("OrganisationNumber",),
    "gln": ("GLN",),
    "glndelivery": ("GLNDelivery",),
}
FILTERS: Final = ("active", "inactive")


def number_key(number: str) -> tuple[int, int | str]:
    """Sorts numbers numerically and other keys after them, alphabetically."""
    return (0, int(number)) if number.isdigit() else (1, number)


def find_customer(company: Company, number: Any) -> dict[str, Any] | None:
    if number is None:
        return None
    return company.table(TABLE).get(str(number))


def country_name(code: Any) -> str | None:
    if not code:
        return None
    return COUNTRY_NAMES.get(str(code), str(code))


def _check_fields(body: dict[str, Any]) -> None:
    for name in body:
        if name in READ_ONLY:
            raise FortnoxApiError(400, READ_ONLY_FIELD, f"Felaktigt fältnamn ({name}, skrivskyddat)")
        if name not in WRITABLE:
            raise FortnoxApiError(400, INVALID_FIELD_NAME, f"Felaktigt fältnamn ({name})")


def _apply(record: dict[str, Any], body: dict[str, Any]) -> None:
    """Writes the body's fields into the record, validating enumerations, codes and numbers."""
    for name, raw in body.items():
        if name == "CustomerNumber":
            continue
        value = None if raw == API_BLANK else raw
        if name == "Type" and value not in CUSTOMER_TYPES:
            raise FortnoxApiError(400, INVALID_PARAMETER, f"Ogiltig kundtyp: {raw}")  # [?] code
        if name == "VATType" and value not in VAT_TYPES:
            raise FortnoxApiError(400, INVALID_PARAMETER, f"Ogiltig momstyp: {raw}")  # [?] code
        if name.endswith("CountryCode") and value not in (None, "") and value not in COUNTRY_CODES:
            raise FortnoxApiError(400, INVALID_PARAMETER, f"Ogiltig landskod: {raw}")  # [?] code
        if name == "Currency" and value not in (None, "") and (not isinstance(value, str) or len(value) != 3):
            raise FortnoxApiError(400, INVALID_PARAMETER, f"Ogiltig valuta: {raw}")
        if name in NUMERIC and value not in (None, ""):
            value = to_number(value, name)
        if name in BOOLEAN and not isinstance(value, bool):
            raise FortnoxApiError(400, NOT_BOOLEAN, f"Värdet måste vara en boolean ({name})")
        if name in ("DefaultDeliveryTypes", "DefaultTemplates") and isinstance(value, dict):
            value = {**record.get(name, {}), **value}
        record[name] = value
    record["Country"] = country_name(record.get("CountryCode"))
    record["DeliveryCountry"] = country_name(record.get("DeliveryCountryCode"))
    record["VisitingCountry"] = country_name(record.get("VisitingCountryCode"))


def _claim_number(company: Company, wanted: Any) -> str:
    """The new customer's number: the one asked for if it was never used, else the next free one."""
    used = company.sequences  # numbers ever used are remembered as "customers:<n>" markers
    if wanted not in (None, ""):
        number = str(wanted).strip()
        if used.get(f"{TABLE}:{number}") or number in company.table(TABLE):
            raise FortnoxApiError(
                400,
                CUSTOMER_NUMBER_USED,
                f"Kundnummer {number} används redan. Kundnumret har redan använts men blivit raderat.",
            )
    else:
        number = company.next_number(TABLE)
        while used.get(f"{TABLE}:{number}") or number in company.table(TABLE):
            number = company.next_number(TABLE)
    used[f"{TABLE}:{number}"] = 1
    return number


def create_customer(company: Company, body: dict[str, Any], now: Any) -> dict[str, Any]:
    """Creates a customer from a POST body (also used by seed data). Caller holds state.lock."""
    _check_fields(body)
    if not str(body.get("Name") or "").strip():
        raise FortnoxApiError(400, INVALID_VALUE, "Namn måste anges.")  # [?] a missing Name: no code is documented
    record = copy.deepcopy(DEFAULTS)
    _apply(record, body)
    record["CustomerNumber"] = _claim_number(company, body.get("CustomerNumber"))
    return company.save(TABLE, record["CustomerNumber"], record, now)


def _answer(request: Request, record: dict[str, Any]) -> dict[str, Any]:
    return {"Customer": {"@url": resource_url(request, f"customers/{record['CustomerNumber']}"), **record}}


def _summary(request: Request, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "@url": resource_url(request, f"customers/{record['CustomerNumber']}"),
        "Address1": record.get("Address1") or "",
        "Address2": record.get("Address2") or "",
        "City": record.get("City") or "",
        "CustomerNumber": record["CustomerNumber"],
        "Email": record.get("Email") or "",
        "Name": record.get("Name") or "",
        "OrganisationNumber": record.get("OrganisationNumber") or "",
        "Phone": record.get("Phone1") or "",
        "ZipCode": record.get("ZipCode") or "",
    }


def customers_router() -> APIRouter:
    router = FortnoxRouter(prefix="/3/customers", tags=["customers"])
    company_dep = Depends(company_for("customer"))
    body_dep = Depends(json_body)

    @router.get("")
    @router.get("/", include_in_schema=False)
    def list_customers(request: Request, company: Company = company_dep) -> dict[str, Any]:
        params = request.query_params
        chosen = one_filter(params, SEARCHES, FILTERS)
        page = page_of(params)
        descending = sort_order(params)
        sortby = params.get("sortby", "customernumber")
        if sortby not in ("customernumber", "name"):
            raise FortnoxApiError(400, INVALID_PARAMETER, "Ogiltig parameter i anropet. (sortby)")
        state = fortnox_state(request)
        with state.lock:
            changed = changed_since(company, TABLE, params)
            records = [r for key, r in company.table(TABLE).items() if changed(key)]
            if chosen is not None:
                name, value = chosen
                if name == "filter":
                    records = [r for r in records if bool(r.get("Active", True)) == (value == "active")]
                else:
                    fields = SEARCH_FIELDS[name]
                    records = [r for r in records if any(contains(r.get(f), value) for f in fields)]
            if sortby == "name":
                records.sort(key=lambda r: (str(r.get("Name") or "").casefold(), number_key(r["CustomerNumber"])))
            else:
                records.sort(key=lambda r: number_key(r["CustomerNumber"]))
            if descending:
                records.reverse()
            shown, meta = paginate(records, page)
            return {"MetaInformation": meta, "Customers": [_summary(request, r) for r in shown]}

    @router.get("/{number}")
    def get_customer(number: str, request: Request, company: Company = company_dep) -> dict[str, Any]:
        state = fortnox_state(request)
        with state.lock:
            return _answer(request, _existing(company, number))

    @router.post("", status_code=201)
    @router.post("/", status_code=201, include_in_schema=False)
    def post_customer(request: Request, body: Any = body_dep, company: Company = company_dep) -> dict[str, Any]:
        fields = unwrap(body, "Customer")
        state = fortnox_state(request)
        with state.lock:
            return _answer(request, create_customer(company, fields, state.now()))

    @router.put("/{number}")
    def put_customer(
        number: str, request: Request, body: Any = body_dep, company: Company = company_dep
    ) -> dict[str, Any]:
        fields = unwrap(body, "Customer")
        state = fortnox_state(request)
        with state.lock:
            record = copy.deepcopy(_existing(company, number))
            _check_fields(fields)
            given = fields.get("CustomerNumber")
            if given not in (None, "") and str(given) != number:
                # [?] The number of an existing customer cannot be changed; the code is the sandbox's choice.
                raise FortnoxApiError(400, INVALID_FIELD_NAME, "Kundnumret kan inte ändras.")
            _apply(record, fields)
            if not str(record.get("Name") or "").strip():
                raise FortnoxApiError(400, INVALID_VALUE, "Namn måste anges.")
            return _answer(request, company.save(TABLE, number, record, state.now()))

    @router.delete("/{number}", status_code=204)
    def delete_customer(number: str, request: Request, company: Company = company_dep) -> Response:
        state = fortnox_state(request)
        with state.lock:
            _existing(company, number)
            company.remove(TABLE, number)  # the number stays reserved (§5.4)
        return Response(status_code=204)

    return router


def _existing(company: Company, number: str) -> dict[str, Any]:
    record = company.table(TABLE).get(number)
    if record is None:
        raise FortnoxApiError(404, CUSTOMER_NOT_FOUND, "Kan inte hitta kunden.")
    return record
