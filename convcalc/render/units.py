"""Human-readable numbers: 177,209,344 -> '177.21M'; bytes -> '1.10 MiB'."""

from __future__ import annotations

from collections.abc import Callable


def _hundredths(value: int, scale: int) -> str:
    """value / scale with two decimals, rounded half up, in integer arithmetic (no float overflow for huge counts)."""
    rounded = (abs(value) * 100 + scale // 2) // scale
    return f"{'-' if value < 0 else ''}{rounded // 100}.{rounded % 100:02d}"


def human_count(value: int) -> str:
    """Decimal prefixes (K = 10^3, M = 10^6, G = 10^9, T = 10^12), two decimals."""
    for prefix, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(value) >= scale:
            return f"{_hundredths(value, scale)}{prefix}"
    return str(value)


def human_bytes(value: int) -> str:
    """Binary prefixes (KiB = 2^10 bytes, MiB = 2^20, GiB = 2^30, TiB = 2^40), two decimals."""
    for prefix, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(value) >= scale:
            return f"{_hundredths(value, scale)} {prefix}"
    return f"{value} B"


def human_seconds(value: float) -> str:
    """Three significant figures in s, ms, us or ns: '1.23 ms', '850 ns' (an estimate's time, not a count)."""
    shown = float(f"{value:.3g}")
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(shown) >= scale:
            return f"{shown / scale:.3g} {unit}"
    return f"{shown / 1e-9:.3g} ns"


def human_rate(value: float, unit: str) -> str:
    """Three significant figures with an SI prefix: human_rate(1.95e13, 'FLOP/s') is '19.5 TFLOP/s'."""
    shown = float(f"{value:.3g}")
    for prefix, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(shown) >= scale:
            return f"{shown / scale:.3g} {prefix}{unit}"
    return f"{shown:.3g} {unit}"


def percent(part: int, whole: int) -> str:
    """part / whole in percent with two decimals, rounded half up, exactly: '9.28%'."""
    return f"{_hundredths(100 * part, whole)}%" if whole else "n/a"


def exact(value: int) -> str:
    return f"{value:,}"


def exact_bytes(value: int) -> str:
    """A size in bytes, exactly: '1,404,928 B' (a bare number would read as a count)."""
    return f"{value:,} B"


def count_shown(exact_numbers: bool) -> Callable[[int], str]:
    """How a table shows a count: exact with --exact, else K/M/G."""
    return exact if exact_numbers else human_count


def size_shown(exact_numbers: bool) -> Callable[[int], str]:
    """How a table shows a size in bytes: exact with --exact, else KiB/MiB."""
    return exact_bytes if exact_numbers else human_bytes


def signed(text: str, value: int) -> str:
    """A difference with its sign: '+2.41M', '-137.73K', '0'."""
    return f"+{text}" if value > 0 else text


def ratio_text(before: int, after: int, noun: str = "", fewer: str = "fewer") -> str:
    """'9.68x fewer' (before / after) or '1.50x more' (after / before), rounded half up to two decimals, exactly."""
    noun = f" {noun}" if noun else ""
    if before == after:
        return "same"
    if after == 0 or before == 0:
        return f"none{noun} after" if after == 0 else f"none{noun} before"
    larger, smaller, word = (before, after, fewer) if before > after else (after, before, "more")
    hundredths = (200 * larger + smaller) // (2 * smaller)  # round(100 * larger / smaller), halves up
    if hundredths == 100:  # '1.00x fewer' would hide the change: say it in percent of before
        return f"{small_percent(larger - smaller, before)}% {word}{noun}"
    return f"{hundredths // 100}.{hundredths % 100:02d}x {word}{noun}"


def small_percent(part: int, whole: int) -> str:
    """100 * part / whole (under 1%) to two significant digits, rounded half up, exactly: '0.033'."""
    digits = 0
    while part * 100 * 10**digits < 10 * whole:
        digits += 1
    rounded = (2 * part * 100 * 10**digits + whole) // (2 * whole)
    text = str(rounded).rjust(digits + 1, "0")
    return f"{text[:-digits]}.{text[-digits:]}" if digits else text
