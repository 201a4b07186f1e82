"""Convert the ikas Admin API v1 schema (TypeScript types in the npm package @ikas/api-client) to GraphQL SDL.

Pinned source: `@ikas/api-client@1.0.97` (the latest published version; the file
`package/dist/api/admin/generated/index.d.ts`, 7,443 lines, graphql-codegen "typescript" plugin output).

How to run it (from the repository root):

    tmp=$(mktemp -d) && (cd "$tmp" && npm pack @ikas/api-client@1.0.97 && tar xzf ikas-api-client-1.0.97.tgz)
    .venv/bin/python scripts/ikas_schema_to_sdl.py "$tmp/package/dist/api/admin/generated/index.d.ts" \
        sandboxes/bridge_sandboxes/ikas/schema/admin-v1.graphql

The script checks its output with graphql-core's `build_schema` before it writes it.

Codegen conventions it reads (all present in 1.0.97):
- `export type Scalars = { ID: string; ...; JSON: any; Timestamp: any }`: the built-in scalars plus the custom ones
  (every name that is not ID/String/Boolean/Int/Float becomes `scalar X`). Field types say `Scalars['X']`
  (newer codegen: `Scalars['X']['output'|'input']`; both are accepted).
- `export declare enum E { KEY = "VALUE" }`: an enum; the GraphQL value is the string VALUE.
- `export type T = { __typename?: 'T'; ... }`: an object type. A `{ ... }` type without `__typename` is an input type,
  except `Query<field>Args` / `Mutation<field>Args`, which are the argument lists of that Query/Mutation field.
- Nullability: `Maybe<X>` / `InputMaybe<X>` (and a bare `field?:`) = nullable, anything else = non-null (`!`).
  Lists: `Array<X>`; `Array<Maybe<X>>` = a list of nullable items.
- `/** ... */` JSDoc above a type, field or enum value becomes its description; a `@deprecated reason` line becomes
  `@deprecated(reason: ...)` on output fields and enum values (for input fields and arguments it stays in the text).

What codegen output cannot carry, so the SDL differs from the server's own schema in these points (none of them
changes which queries validate, except the last one, which does not occur in 1.0.97):
- default values of arguments and input fields (e.g. `PaginationInput.limit = 50`) are absent;
- field and argument order is codegen's (alphabetical), not the server's declaration order;
- interfaces and unions: the typescript plugin emits unions as `A | B` aliases; none exist in 1.0.97, and the
  script raises an error if it meets one instead of guessing;
- directives other than @deprecated are not in the TypeScript output.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from graphql import build_schema

BUILT_IN_SCALARS = {"ID", "String", "Boolean", "Int", "Float"}
HELPER_TYPES = {"Maybe", "InputMaybe", "Exact", "MakeOptional", "MakeMaybe", "MakeEmpty", "Incremental", "Scalars"}


@dataclass
class Member:
    """A field, argument or enum value with its description."""

    name: str
    type_ref: str = ""  # the GraphQL type reference, e.g. "[String!]!"; empty for enum values
    description: str = ""
    deprecation: str | None = None


@dataclass
class TypeDef:
    kind: str  # "object" | "input" | "enum" | "args"
    name: str
    description: str = ""
    members: list[Member] = field(default_factory=list)


class ConversionError(Exception):
    pass


def _parse_comment(lines: list[str]) -> tuple[str, str | None]:
    """A JSDoc block (its raw lines) -> (description, deprecation reason or None)."""
    text_lines: list[str] = []
    for raw in lines:
        line = raw.strip()
        line = re.sub(r"^/\*\*", "", line)
        line = re.sub(r"\*/$", "", line)
        line = re.sub(r"^\* ?", "", line.strip()) if line.strip().startswith("*") else line
        text_lines.append(line.rstrip())
    if len(text_lines) == 1:
        text_lines = [text_lines[0].strip()]
    deprecation: str | None = None
    kept: list[str] = []
    for line in text_lines:
        match = re.match(r"\s*@deprecated\s*(.*)$", line)
        if match:
            deprecation = match.group(1).strip() or "No longer supported"
        else:
            kept.append(line)
    while kept and not kept[0].strip():
        kept.pop(0)
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept), deprecation


def _type_ref(expression: str, optional: bool) -> str:
    """A TypeScript field type (codegen style) -> a GraphQL type reference."""
    expression = expression.strip()
    nullable = optional
    match = re.fullmatch(r"(?:Input)?Maybe<(.*)>", expression)
    if match:
        nullable, expression = True, match.group(1).strip()
    match = re.fullmatch(r"Array<(.*)>", expression)
    if match:
        inner = _type_ref(match.group(1), optional=False)
        ref = f"[{inner}]"
    else:
        match = re.fullmatch(r"Scalars\['(\w+)'\](?:\['(?:input|output)'\])?", expression)
        if match:
            ref = match.group(1)
        elif re.fullmatch(r"[A-Za-z_]\w*", expression):
            ref = expression
        else:
            raise ConversionError(f"unsupported TypeScript type expression: {expression!r}")
    return ref if nullable else f"{ref}!"


def parse(source: str) -> tuple[list[str], list[TypeDef]]:
    """Parse the codegen file into custom scalar names and type definitions (in file order)."""
    lines = source.splitlines()
    scalars: list[str] = []
    types: list[TypeDef] = []
    comment: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped.startswith("/**"):
            comment = [stripped]
            while not stripped.endswith("*/"):
                index += 1
                stripped = lines[index].strip()
                comment.append(stripped)
            index += 1
            continue
        enum_match = re.match(r"export declare enum (\w+) \{$", stripped)
        type_match = re.match(r"export type (\w+) = \{$", stripped)
        other_match = re.match(r"export type (\w+)(?:<| =)", stripped)
        if enum_match or type_match:
            name = (enum_match or type_match).group(1)  # type: ignore[union-attr]
            description, _ = _parse_comment(comment)
            comment = []
            body: list[str] = []
            index += 1
            while lines[index].strip() not in ("}", "};"):
                body.append(lines[index])
                index += 1
            index += 1
            if name == "Scalars":
                for entry in body:
                    scalar = re.match(r"\s*(\w+)\s*:", entry)
                    if scalar and scalar.group(1) not in BUILT_IN_SCALARS:
                        scalars.append(scalar.group(1))
                continue
            if name in HELPER_TYPES:
                continue
            types.append(_parse_body("enum" if enum_match else "object", name, description, body))
            continue
        if other_match:
            name = other_match.group(1)
            if name not in HELPER_TYPES:
                raise ConversionError(f"unsupported top-level construct for {name}: {stripped!r} (union?)")
            # skip the helper's (possibly multi-line) definition
            depth = stripped.count("{") - stripped.count("}")
            while depth > 0 or not lines[index].rstrip().endswith(";"):
                index += 1
                depth += lines[index].count("{") - lines[index].count("}")
            index += 1
            comment = []
            continue
        if stripped and not stripped.startswith("//"):
            raise ConversionError(f"line {index + 1}: unexpected {stripped!r}")
        index += 1
    return scalars, types


def _parse_body(kind: str, name: str, description: str, body: list[str]) -> TypeDef:
    definition = TypeDef(kind=kind, name=name, description=description)
    comment: list[str] = []
    has_typename = False
    index = 0
    while index < len(body):
        stripped = body[index].strip()
        if stripped.startswith("/**"):
            comment = [stripped]
            while not stripped.endswith("*/"):
                index += 1
                stripped = body[index].strip()
                comment.append(stripped)
            index += 1
            continue
        member_description, deprecation = _parse_comment(comment)
        comment = []
        if kind == "enum":
            match = re.fullmatch(r'(\w+) = "([^"]*)",?', stripped)
            if not match:
                raise ConversionError(f"enum {name}: cannot read {stripped!r}")
            value = match.group(2)
            if not re.fullmatch(r"[_A-Za-z][_0-9A-Za-z]*", value) or value in ("true", "false", "null"):
                raise ConversionError(f"enum {name}: value {value!r} is not a GraphQL name")
            definition.members.append(Member(value, description=member_description, deprecation=deprecation))
        else:
            match = re.fullmatch(r"(\w+)(\??): (.*);", stripped)
            if not match:
                raise ConversionError(f"type {name}: cannot read {stripped!r}")
            field_name, optional, expression = match.groups()
            if field_name == "__typename":
                has_typename = True
            else:
                definition.members.append(
                    Member(
                        field_name,
                        _type_ref(expression, optional == "?"),
                        description=member_description,
                        deprecation=deprecation,
                    )
                )
        index += 1
    if kind == "object" and not has_typename:
        definition.kind = "args" if re.fullmatch(r"(Query|Mutation|Subscription)\w+Args", name) else "input"
    return definition


def _description(text: str, indent: str) -> str:
    if not text:
        return ""
    escaped = text.replace("\\", "\\\\").replace('"""', '\\"""')
    if "\n" not in escaped and not escaped.endswith('"'):
        return f'{indent}"""{escaped}"""\n'
    body = "\n".join(f"{indent}{line}" if line else "" for line in escaped.split("\n"))
    return f'{indent}"""\n{body}\n{indent}"""\n'


def _string_literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(scalars: list[str], types: list[TypeDef]) -> str:
    """The SDL text: scalars, then every type in file order (codegen sorts them by name)."""
    args_of = {t.name: t for t in types if t.kind == "args"}
    used_args: set[str] = set()
    out: list[str] = [
        "# The ikas Admin API v1 schema (https://api.myikas.com/api/v1/admin/graphql), generated by\n"
        "# scripts/ikas_schema_to_sdl.py from @ikas/api-client@1.0.97 dist/api/admin/generated/index.d.ts.\n"
        "# Do not edit by hand; re-run the script. Known gaps: no default values, codegen field order.\n"
    ]
    for scalar in scalars:
        description = "Milliseconds since the Unix epoch." if scalar == "Timestamp" else ""  # fact sheet §2.1
        out.append(_description(description, "") + f"scalar {scalar}\n")
    for definition in types:
        if definition.kind == "args":
            continue
        keyword = {"object": "type", "input": "input", "enum": "enum"}[definition.kind]
        chunk = _description(definition.description, "") + f"{keyword} {definition.name} {{\n"
        for member in definition.members:
            deprecated, description = "", member.description
            if member.deprecation is not None and definition.kind in ("object", "enum"):
                deprecated = f" @deprecated(reason: {_string_literal(member.deprecation)})"
            elif member.deprecation is not None:  # not allowed on required inputs: keep the note as text
                description = f"{description}\nDeprecated: {member.deprecation}".strip()
            chunk += _description(description, "  ")
            if definition.kind == "enum":
                chunk += f"  {member.name}{deprecated}\n"
                continue
            arguments = ""
            args_name = f"{definition.name}{member.name}Args"
            if definition.name in ("Query", "Mutation", "Subscription") and args_name in args_of:
                used_args.add(args_name)
                rendered = []
                for argument in args_of[args_name].members:
                    description = argument.description
                    if argument.deprecation is not None:
                        description = f"{description}\nDeprecated: {argument.deprecation}".strip()
                    rendered.append(_description(description, "    ") + f"    {argument.name}: {argument.type_ref}")
                arguments = "(\n" + "\n".join(rendered) + "\n  )"
            chunk += f"  {member.name}{arguments}: {member.type_ref}{deprecated}\n"
        chunk += "}\n"
        out.append(chunk)
    unused = set(args_of) - used_args
    if unused:
        raise ConversionError(f"argument types without a matching Query/Mutation field: {sorted(unused)}")
    return "\n".join(out)


def convert(source: str) -> str:
    scalars, types = parse(source)
    sdl = render(scalars, types)
    build_schema(sdl)  # raises on anything GraphQL would reject
    return sdl


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index_d_ts", type=Path, help="dist/api/admin/generated/index.d.ts of @ikas/api-client")
    parser.add_argument("output", type=Path, help="where to write the SDL, e.g. .../ikas/schema/admin-v1.graphql")
    arguments = parser.parse_args(argv)
    try:
        sdl = convert(arguments.index_d_ts.read_text(encoding="utf-8"))
    except ConversionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(sdl, encoding="utf-8")
    print(f"wrote {arguments.output} ({sdl.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
