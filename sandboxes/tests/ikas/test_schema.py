"""The committed SDL is the real v1 schema, and the converter script reproduces codegen conventions."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from graphql import build_schema, parse, validate

ROOT = Path(__file__).resolve().parents[3]
SDL = ROOT / "sandboxes/bridge_sandboxes/ikas/schema/admin-v1.graphql"


def _converter() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ikas_schema_to_sdl", ROOT / "scripts/ikas_schema_to_sdl.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_sdl_builds_and_has_the_operations_bridge_uses() -> None:
    schema = build_schema(SDL.read_text(encoding="utf-8"))
    assert schema.query_type is not None
    assert schema.mutation_type is not None
    for name in (
        "me",
        "getMerchant",
        "getAuthorizedApp",
        "listProduct",
        "listOrder",
        "listProductStockLocation",
        "listStockLocation",
        "listProductTag",
        "listVariantType",
        "listTaxSettings",
        "getGlobalTaxSettings",
        "listWebhook",
    ):
        assert name in schema.query_type.fields, name
    for name in (
        "saveProduct",
        "saveVariantPrices",
        "saveProductStockLocations",
        "addOrderInvoice",
        "saveWebhook",
        "deleteWebhook",
        "addCustomTimelineEntry",
    ):
        assert name in schema.mutation_type.fields, name
    assert "updatedAt" not in schema.query_type.fields["listProduct"].args  # fact sheet §4.4
    assert str(schema.query_type.fields["listOrder"].args["updatedAt"].type) == "DateFilterInput"


def test_unknown_field_fails_validation() -> None:
    schema = build_schema(SDL.read_text(encoding="utf-8"))
    assert validate(schema, parse("{ listProduct { data { id name } } }")) == []
    assert validate(schema, parse("{ listProduct { data { id vatRate } } }"))


def test_converter_reads_codegen_conventions() -> None:
    source = """export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends {
    [key: string]: unknown;
}> = {
    [K in keyof T]: T[K];
};
export type Scalars = {
    ID: string;
    String: string;
    Boolean: boolean;
    Int: number;
    Float: number;
    Timestamp: any;
};
export declare enum ColourEnum {
    DARK_RED = "DARK_RED"
}
export type Thing = {
    __typename?: 'Thing';
    /**
     * A description
     * @deprecated Use other
     */
    old?: Maybe<Scalars['String']>;
    tags: Array<Scalars['String']>;
    maybeTags?: Maybe<Array<Maybe<ColourEnum>>>;
    at: Scalars['Timestamp']['output'];
};
export type ThingInput = {
    name: Scalars['String'];
    count?: InputMaybe<Scalars['Int']>;
};
export type Query = {
    __typename?: 'Query';
    things: Array<Thing>;
};
export type QuerythingsArgs = {
    input: ThingInput;
    limit?: InputMaybe<Scalars['Int']>;
};
"""
    sdl = _converter().convert(source)
    schema = build_schema(sdl)
    thing = schema.get_type("Thing")
    assert str(thing.fields["old"].type) == "String"  # type: ignore[union-attr]
    assert thing.fields["old"].deprecation_reason == "Use other"  # type: ignore[union-attr]
    assert str(thing.fields["tags"].type) == "[String!]!"  # type: ignore[union-attr]
    assert str(thing.fields["maybeTags"].type) == "[ColourEnum]"  # type: ignore[union-attr]
    assert str(thing.fields["at"].type) == "Timestamp!"  # type: ignore[union-attr]
    args = schema.query_type.fields["things"].args  # type: ignore[union-attr]
    assert str(args["input"].type) == "ThingInput!"
    assert str(args["limit"].type) == "Int"
