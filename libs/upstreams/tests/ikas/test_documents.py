"""Every ikas GraphQL document Bridge sends is valid against the real v1 schema (the SDL kept in the sandbox).

A document that asks for a field or argument the real API lacks fails the whole request in production
(fact sheet §7), so it must fail here first.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    get_named_type,
    is_leaf_type,
    is_object_type,
    parse,
    validate,
)

from bridge_upstreams.ikas.client import IDEMPOTENT_MUTATIONS, document
from bridge_upstreams.ikas.errors import REQUIRED_SCOPE

DOCUMENTS = Path(str(resources.files("bridge_upstreams.ikas").joinpath("documents")))
SDL = Path(str(resources.files("bridge_sandboxes.ikas").joinpath("schema/admin-v1.graphql")))
ALL_DOCUMENTS = sorted(DOCUMENTS.glob("*.graphql"))
SERVER_MAINTAINED = {"createdAt", "updatedAt"}


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema(SDL.read_text(encoding="utf-8"))


def _errors(schema: GraphQLSchema, text: str) -> list[str]:
    return [error.message for error in validate(schema, parse(text))]


def test_there_is_a_document_for_every_operation_bridge_uses() -> None:
    names = {path.stem for path in ALL_DOCUMENTS}
    assert names == set(REQUIRED_SCOPE), "documents/ and the scope table in errors.py must name the same operations"
    assert names >= IDEMPOTENT_MUTATIONS


@pytest.mark.parametrize("path", ALL_DOCUMENTS, ids=lambda p: p.stem)
def test_document_is_valid_against_the_v1_schema(schema: GraphQLSchema, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert _errors(schema, text) == []
    operations = [d for d in parse(text).definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1, "one operation per file"
    name = operations[0].name
    assert name is not None
    assert name.value == path.stem, "the file is named for its operation"
    assert document(path.stem).text == text


def test_a_document_with_an_unknown_field_fails(schema: GraphQLSchema) -> None:
    good = (DOCUMENTS / "listOrder.graphql").read_text(encoding="utf-8")
    bad = good.replace("      orderNumber\n", "      orderNumber\n      fortnoxInvoiceNumber\n", 1)
    assert bad != good
    errors = _errors(schema, bad)
    assert any("Cannot query field 'fortnoxInvoiceNumber' on type 'Order'" in message for message in errors)


def test_a_document_with_an_unknown_argument_or_wrong_type_fails(schema: GraphQLSchema) -> None:
    # v1 listProduct has no updatedAt filter (fact sheet §4.4): asking for one must not validate
    assert _errors(schema, "query q($t: DateFilterInput) { listProduct(updatedAt: $t) { count } }")
    assert _errors(schema, "query q($p: Int) { listProduct(pagination: $p) { count } }")
    assert _errors(schema, "query q { listWebhook { id url } }")


def _selected(schema: GraphQLSchema, document_node: DocumentNode) -> dict[str, object]:
    """The selection under listProduct.data as a nested dict: leaf -> None, object -> dict."""

    def walk(field: FieldNode) -> dict[str, object]:
        out: dict[str, object] = {}
        for selection in field.selection_set.selections if field.selection_set else ():
            assert isinstance(selection, FieldNode)
            out[selection.name.value] = walk(selection) if selection.selection_set else None
        return out

    operation = document_node.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    root = operation.selection_set.selections[0]
    assert isinstance(root, FieldNode)
    data = walk(root)["data"]
    assert isinstance(data, dict)
    return data


def test_the_product_read_for_save_covers_every_field_product_input_can_carry(schema: GraphQLSchema) -> None:
    """saveProduct replaces the whole product: a ProductInput field that Product has but the read leaves out
    would be erased by every update (fact sheet §4.5)."""
    product_type, product_input = schema.get_type("Product"), schema.get_type("ProductInput")

    def expected(output: object, input_type: object) -> dict[str, object]:
        fields: dict[str, object] = {}
        for name, input_field in input_type.fields.items():  # type: ignore[attr-defined]
            if name in SERVER_MAINTAINED or name not in output.fields:  # type: ignore[attr-defined]
                continue
            out_named = get_named_type(output.fields[name].type)  # type: ignore[attr-defined]
            if is_leaf_type(out_named):
                fields[name] = None
            else:
                assert is_object_type(out_named)
                fields[name] = expected(out_named, get_named_type(input_field.type))
        return fields

    text = (DOCUMENTS / "getProductForSave.graphql").read_text(encoding="utf-8")
    assert _selected(schema, parse(text)) == expected(product_type, product_input)
