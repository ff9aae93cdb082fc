"""Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource/quantity.go).

A quantity is an exact decimal number with a suffix that fixes its *format*: binary SI ("Ki", "Mi", "Gi" ...),
decimal SI ("n", "u", "m", "", "k", "M", "G" ...) or a decimal exponent ("1e3"). The API server re-encodes
every quantity it stores in its canonical form (Quantity.String / CanonicalizeBytes), which is why a Pod
created with `cpu: 0.5` reads back as `cpu: 500m`, `memory: 1024Mi` as `1Gi`, and why quota messages print
`requests.cpu=1500m`:

- decimal SI: the value is written as an integer mantissa times 10^e with e a multiple of 3 (trailing zeros
  moved into the exponent, the exponent rounded down to a multiple of 3): "1.5" -> "1500m", "1000" -> "1k";
- binary SI: an integer value of at least 1024 is written with the largest power of 1024 that divides it
  ("1536Mi", "1Gi"); a value below 1024 or with a fraction falls back to decimal SI ("0.5Gi" -> "512Mi",
  but "100Ki" stays "100Ki" and "0.5Ki" -> "512");
- precision finer than 1n is rounded up (the API keeps nano precision).

Arithmetic follows Quantity.Add / Sub: a zero quantity takes the other operand's format.
"""
from __future__ import annotations

import functools
import math
import re
from fractions import Fraction

_BIN = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "Pi": 1024**5, "Ei": 1024**6}
_DEC = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}

BINARY_SI = "BinarySI"
DECIMAL_SI = "DecimalSI"
DECIMAL_EXPONENT = "DecimalExponent"

_DEC_EXP_SUFFIX = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}
_BIN_EXP_SUFFIX = {0: "", 10: "Ki", 20: "Mi", 30: "Gi", 40: "Ti", 50: "Pi", 60: "Ei"}
_SUFFIX_VALUE: dict[str, tuple[Fraction, str]] = {
    "": (Fraction(1), DECIMAL_SI), "n": (Fraction(1, 10**9), DECIMAL_SI), "u": (Fraction(1, 10**6), DECIMAL_SI),
    "m": (Fraction(1, 1000), DECIMAL_SI),
    **{k: (Fraction(v), DECIMAL_SI) for k, v in _DEC.items()},
    **{k: (Fraction(v), BINARY_SI) for k, v in _BIN.items()},
}
# quantity.go splitQuantityString / parseQuantityString: sign, digits with an optional fraction, suffix.
_QTY_RE = re.compile(r"^([+-]?)(\d*)(?:\.(\d*))?(.*)$")
_EXP_RE = re.compile(r"^[eE]([+-]?\d+)$")
_NANO = Fraction(1, 10**9)

# The error ParseQuantity returns for a malformed string (quantity.go ErrFormatWrong), as the API
# validation and decoder report it.
ERR_FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


class QuantityError(ValueError):
    pass


class Quantity:
    """An exact quantity with its format. Immutable; arithmetic returns new quantities."""
    __slots__ = ("value", "format")

    def __init__(self, value: Fraction | int = 0, fmt: str = DECIMAL_SI):
        self.value = Fraction(value)
        self.format = fmt

    # ---- parsing -----------------------------------------------------------------------------------
    @staticmethod
    def parse(s: str | int | float | "Quantity") -> "Quantity":
        if isinstance(s, Quantity):
            return s
        if isinstance(s, bool):
            raise QuantityError(ERR_FORMAT_WRONG)
        if isinstance(s, int):
            return Quantity(s, DECIMAL_SI)
        if isinstance(s, float):
            s = repr(s)
        text = str(s).strip()
        m = _QTY_RE.match(text)
        if not text or m is None:
            raise QuantityError(ERR_FORMAT_WRONG)
        sign, whole, frac, suffix = m.group(1), m.group(2), m.group(3), m.group(4)
        if not whole and not frac:
            raise QuantityError(ERR_FORMAT_WRONG)
        number = Fraction(int(whole or "0")) + (Fraction(int(frac), 10 ** len(frac)) if frac else 0)
        if suffix in _SUFFIX_VALUE:
            mult, fmt = _SUFFIX_VALUE[suffix]
        else:
            em = _EXP_RE.match(suffix)
            if em is None:
                raise QuantityError("unable to parse quantity's suffix")
            exp = int(em.group(1))
            mult, fmt = (Fraction(10) ** exp), DECIMAL_EXPONENT
        value = number * mult
        if sign == "-":
            value = -value
        # Precision below 1n is rounded up (away from zero for positives, as RoundUp(-9) does).
        if (value / _NANO).denominator != 1:
            value = Fraction(math.ceil(value / _NANO)) * _NANO
        return Quantity(value, fmt)

    # ---- arithmetic (Quantity.Add / Sub / Cmp) -----------------------------------------------------
    def __add__(self, other: "Quantity") -> "Quantity":
        other = Quantity.parse(other)
        fmt = other.format if self.value == 0 else self.format
        return Quantity(self.value + other.value, fmt)

    def __sub__(self, other: "Quantity") -> "Quantity":
        other = Quantity.parse(other)
        fmt = other.format if self.value == 0 else self.format
        return Quantity(self.value - other.value, fmt)

    def __neg__(self) -> "Quantity":
        return Quantity(-self.value, self.format)

    def __mul__(self, n: int) -> "Quantity":
        return Quantity(self.value * n, self.format)

    def cmp(self, other) -> int:
        o = Quantity.parse(other).value
        return (self.value > o) - (self.value < o)

    def __eq__(self, other) -> bool:
        try:
            return self.value == Quantity.parse(other).value
        except (QuantityError, TypeError):
            return NotImplemented

    def __lt__(self, other) -> bool:
        return self.value < Quantity.parse(other).value

    def __le__(self, other) -> bool:
        return self.value <= Quantity.parse(other).value

    def __gt__(self, other) -> bool:
        return self.value > Quantity.parse(other).value

    def __ge__(self, other) -> bool:
        return self.value >= Quantity.parse(other).value

    def __hash__(self) -> int:
        return hash(self.value)

    def is_zero(self) -> bool:
        return self.value == 0

    def milli_value(self) -> int:
        """Quantity.MilliValue: value * 1000, rounded up."""
        return math.ceil(self.value * 1000)

    def int_value(self) -> int:
        """Quantity.Value: rounded up to an integer."""
        return math.ceil(self.value)

    def is_integer(self) -> bool:
        return self.value.denominator == 1

    # ---- formatting (Quantity.String -> CanonicalizeBytes) ------------------------------------------
    def __str__(self) -> str:
        return self.canonical()

    def __repr__(self) -> str:
        return f"Quantity({self.canonical()!r})"

    def canonical(self) -> str:
        v = self.value
        if v == 0:
            return "0"
        sign = "-" if v < 0 else ""
        a = -v if v < 0 else v
        fmt = self.format
        if fmt == BINARY_SI:
            if a < 1024 or a.denominator != 1:
                fmt = DECIMAL_SI
            else:
                n, exp = a.numerator, 0
                while n % 1024 == 0 and exp < 60:
                    n //= 1024
                    exp += 10
                return f"{sign}{n}{_BIN_EXP_SUFFIX[exp]}"
        # decimal: integer mantissa * 10^e, trailing zeros removed, e rounded down to a multiple of 3
        e = 0
        while a.denominator != 1:
            a *= 10
            e -= 1
        n = a.numerator
        while n % 10 == 0:
            n //= 10
            e += 1
        r = e % 3  # Python's modulo is non-negative: e - r is the multiple of 3 at or below e
        n *= 10 ** r
        e -= r
        if fmt == DECIMAL_EXPONENT:
            return f"{sign}{n}" + (f"e{e}" if e else "")
        if e in _DEC_EXP_SUFFIX:
            return f"{sign}{n}{_DEC_EXP_SUFFIX[e]}"
        # beyond the SI suffixes (below n is impossible after rounding; above E): shift into the mantissa
        if e > 18:
            return f"{sign}{n * 10 ** (e - 18)}E"
        return f"{sign}{n}e{e}"


def parse(s) -> Quantity:
    return Quantity.parse(s)


def canonical(s) -> str:
    """The canonical string of a quantity as the API server stores it ("0.5" -> "500m")."""
    return Quantity.parse(s).canonical()


def try_parse(s) -> Quantity | None:
    try:
        return Quantity.parse(s)
    except (QuantityError, TypeError, ValueError):
        return None


def parse_cpu_milli(q: str | int | float) -> int:
    """Quantity.MilliValue of a quantity as written (rounded up, as upstream): "100m" -> 100, "0.5" -> 500."""
    return _milli(str(q))


def parse_bytes(q: str | int | float) -> int:
    """Quantity.Value of a quantity as written (rounded up, as upstream): "128Mi" -> 134217728."""
    return _value(str(q))


# The scheduler, the kubelets and quota read the same few request strings for every Pod: parsed once each.
@functools.lru_cache(maxsize=4096)
def _milli(s: str) -> int:
    if s.endswith("m") and s[:-1].isdigit():
        return int(s[:-1])
    return Quantity.parse(s).milli_value()


@functools.lru_cache(maxsize=4096)
def _value(s: str) -> int:
    if s.isdigit():
        return int(s)
    return Quantity.parse(s).int_value()


def is_quantity(s: str) -> bool:
    return try_parse(s) is not None
