"""ikas base units -> Fortnox unit codes (product.md §3: `Unit` when the base unit maps to a Fortnox unit).

The codes are those every Fortnox company starts with; an article gets a unit only when the code also exists
in the tenant's company (the caller checks), so a missing mapping or unit leaves `Unit` empty, never wrong.
"""

from __future__ import annotations

from typing import Final

FORTNOX_UNITS: Final = {
    "GRAM": "g",
    "KILOGRAM": "kg",
    "LITER": "l",
    "MILLILITER": "ml",
    "METER": "m",
    "CENTIMETER": "cm",
}


def fortnox_unit(ikas_unit_type: str | None) -> str | None:
    """The Fortnox unit code for an ikas ProductUnitTypeEnum value, or None when there is none."""
    if ikas_unit_type is None:
        return None
    return FORTNOX_UNITS.get(ikas_unit_type.strip().upper())
