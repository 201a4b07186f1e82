"""Product attributes in the ikas sandbox: saveProductAttribute / listProductAttribute, and attribute values on
products and variants (fact sheet §4.1, §4.2), which the order sync reads for orders.unit_attribute."""

from __future__ import annotations

from typing import Any


def _save_attribute(gql: Any, name: str, kind: str, options: list[str] | None = None) -> dict[str, Any]:
    body = gql(
        """mutation($input: ProductAttributeInput!) {
             saveProductAttribute(input: $input) { id name type deleted options { id name } } }""",
        {"input": {"name": name, "type": kind, "options": [{"name": o} for o in options or []]}},
    )
    assert "errors" not in body, body
    saved: dict[str, Any] = body["data"]["saveProductAttribute"]
    return saved


def test_attributes_are_saved_and_listed_by_name(gql: Any) -> None:
    unit = _save_attribute(gql, "Enhet", "TEXT")
    pack = _save_attribute(gql, "Förpackning", "CHOICE", ["påse", "burk"])
    assert (unit["name"], unit["type"], unit["deleted"], unit["options"]) == ("Enhet", "TEXT", False, [])
    assert [o["name"] for o in pack["options"]] == ["påse", "burk"]
    listed = gql('query { listProductAttribute(name: {eq: "Förpackning"}) { id name options { id name } } }')["data"][
        "listProductAttribute"
    ]
    assert listed == [{"id": pack["id"], "name": "Förpackning", "options": pack["options"]}]
    assert len(gql("query { listProductAttribute { id } }")["data"]["listProductAttribute"]) == 2
    assert gql('query { listProductAttribute(name: {eq: "Enhet"}) { id } }', store="other")["data"] == {
        "listProductAttribute": []
    }


def test_products_and_variants_carry_attribute_values(gql: Any) -> None:
    unit = _save_attribute(gql, "Enhet", "TEXT")
    saved = gql(
        """mutation($input: ProductInput!) { saveProduct(input: $input) {
             id attributes { productAttributeId value } variants { id attributes { productAttributeId value } } } }""",
        {
            "input": {
                "name": "Loose tea",
                "type": "PHYSICAL",
                "baseUnit": {"baseAmount": 1, "type": "KILOGRAM"},
                "attributes": [{"productAttributeId": unit["id"], "value": "påse"}],
                "variants": [
                    {
                        "sku": "TEA-100",
                        "prices": [{"sellPrice": 45}],
                        "unit": {"amount": 100, "type": "GRAM"},
                        "attributes": [{"productAttributeId": unit["id"], "value": "burk"}],
                    }
                ],
            }
        },
    )["data"]["saveProduct"]
    assert saved["attributes"] == [{"productAttributeId": unit["id"], "value": "påse"}]
    assert saved["variants"][0]["attributes"] == [{"productAttributeId": unit["id"], "value": "burk"}]


def test_an_unknown_attribute_id_is_refused(gql: Any) -> None:
    body = gql(
        """mutation { saveProductAttribute(input: {id: "nope", name: "X", type: TEXT}) { id } }""",
    )
    assert body["errors"][0]["message"] == "Product attribute not found: nope"
