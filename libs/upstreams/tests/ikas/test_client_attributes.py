"""IkasClient's product-attribute reads against the ikas sandbox over real HTTP (fact sheet §4.1, §4.2): the
attribute by name with its options, and the values products and variants carry."""

from __future__ import annotations

from typing import Any

import httpx

from bridge_upstreams.ikas import models as m
from bridge_upstreams.ikas.client import IkasClient

TENANT = "demo"
Sandbox = Any  # conftest fixtures (not importable under --import-mode=importlib)
Tokens = Any


def _graphql(sandbox: Sandbox, tokens: Tokens, query: str, variables: dict[str, Any]) -> Any:
    response = httpx.post(
        sandbox.graphql_url,
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {tokens.access_token(TENANT)}"},
        timeout=10,
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def _attribute(sandbox: Sandbox, tokens: Tokens, name: str, kind: str, options: list[str]) -> dict[str, Any]:
    data = _graphql(
        sandbox,
        tokens,
        "mutation($i: ProductAttributeInput!) { saveProductAttribute(input: $i) { id options { id name } } }",
        {"i": {"name": name, "type": kind, "options": [{"name": o} for o in options]}},
    )
    saved: dict[str, Any] = data["saveProductAttribute"]
    return saved


def test_attributes_by_name_and_their_values_on_products_and_variants(
    ikas: IkasClient, sandbox: Sandbox, tokens: Tokens
) -> None:
    unit = _attribute(sandbox, tokens, "Enhet", "TEXT", [])
    pack = _attribute(sandbox, tokens, "Förpackning", "CHOICE", ["påse", "burk"])
    bag = pack["options"][0]["id"]
    product = _graphql(
        sandbox,
        tokens,
        "mutation($i: ProductInput!) { saveProduct(input: $i) { id variants { id } } }",
        {
            "i": {
                "name": "Loose tea",
                "type": "PHYSICAL",
                "attributes": [{"productAttributeId": unit["id"], "value": "förp"}],
                "variants": [
                    {
                        "sku": "TEA-1",
                        "prices": [{"sellPrice": 45}],
                        "attributes": [{"productAttributeId": pack["id"], "productAttributeOptionId": bag}],
                    },
                    {"sku": "TEA-2", "prices": [{"sellPrice": 85}]},
                ],
            }
        },
    )["saveProduct"]

    (found,) = ikas.list_product_attributes(TENANT, name="Förpackning")
    assert found == m.ProductAttribute(
        id=pack["id"],
        name="Förpackning",
        type="CHOICE",
        deleted=False,
        options=((bag, "påse"), (pack["options"][1]["id"], "burk")),
    )
    assert {a.name for a in ikas.list_product_attributes(TENANT)} >= {"Enhet", "Förpackning"}
    assert ikas.list_product_attributes(TENANT, name="Nothing") == []

    (values,) = ikas.product_attribute_values(TENANT, [product["id"], product["id"], "no-such-product"])
    first, second = (v["id"] for v in product["variants"])
    assert values.product_id == product["id"]
    assert values.values == (m.AttributeValue(unit["id"], None, "förp"),)
    assert values.variants == {first: (m.AttributeValue(pack["id"], bag, None),), second: ()}
