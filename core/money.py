"""Money: Decimal amounts with an ISO 4217 currency; one place rounds them."""

from decimal import ROUND_HALF_UP, Decimal
from functools import cache

# Minor units of the currencies that differ from the usual two decimals (ISO 4217).
MINOR_UNITS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}


def minor_unit(currency: str) -> int:
    return MINOR_UNITS.get(currency.upper(), 2)


@cache
def _exponent(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def quantize(amount, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit: 2.345 EUR -> 2.35, 1234.5 JPY -> 1235."""
    return Decimal(amount).quantize(_exponent(currency), rounding=ROUND_HALF_UP)
