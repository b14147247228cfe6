"""Deal values that SIPRI reports in free text in the `Comments` column.

SIPRI gives deal values only as prose ("INR390 b ($5.4 b) deal; ...", "Part
of $2.7 b programme"). Journalists quote these figures, so an amount is taken
only when the wording says it *is* the value of this deal, and the exact
words read are kept in `reported_value_text` so that every number can be
traced back to its comment.

Rules, decided from the 2025-03 register (4,144 comments name an amount):

* Deal wording: "$X deal", "$X aid", "$X programme"/"program"/"project"/
  "contract"/"plan"/"lease" (also "$X 5-year lease", "$X emergency deal",
  "$X 'Peace Gate' deal", "$X modernization of ...", the typo "$X
  dealmodernization"), "deal worth $X" (also aid/lease/... worth, and
  "aid (worth $X)" but not "lease (worth $X for first 4)"), and an amount
  followed by a quoted programme name ("AUD90 m 'Project Air-5398'"). The
  first amount with deal wording wins. Only when none has it does a "part of
  $X" with no deal word ("Part of NZP1 m") or an amount that is a whole
  clause ("$274 m; incl 4 as aid") count.
* Scope is `part of` when "part of" (or SIPRI's "Part $X deal") leads the
  amount or its "deal worth": a shared programme value must never be summed
  once per weapon. Otherwise `deal`: "$206 m deal (part of $2.2 b ...)" is a
  $206 m deal.
* Not the value of this deal, so skipped: an amount after "original(ly)" (a
  superseded value: "Original SEK8.3 b deal ... reduced to SEK7 b deal"
  gives SEK7 b), after "offsets", "incl"/"including"/"plus"/"additional" (a
  share of the deal), or after "with"/"by" ("paid with $970 m US 'SAP'
  aid", "financed by EUR165 m aid": the financing, often a wider aid
  package, not this deal's price). Offsets, loans, credits, debt, options,
  advance payments, components, barter, damages, penalties and costs
  such as "modernized for $15 m" or "pays $8.8 m for overhaul" carry no
  deal wording and are never read.
* USD: the amount itself when in dollars ("$", "US$", "USD"); otherwise the
  dollar figure in brackets right after the amount or right after the deal
  word ("SEK2.5 b deal ($338 m; offsets ...)"), never one further away.
  Without one, USD is NaN and the original amount and currency are kept
  ("GBP2.7 m deal"); with an unreadable local figure ("GBP25 ($58 m)") the
  dollar figure is kept and the amount is NaN.
* Ranges ("$17-20 m", "GBP700 m-GBP1.1 b") and alternatives ("$64 m or $76 m
  deal") give the lower and the upper bound; "EUR100+ m" gives 100 for both.
  Of two local currencies ("GBP39 m/EUR48 m ($60 m)") the first is the
  amount.
* Multipliers m/mn/million, b/bn/billion, tr/trillion, k, crore(s). A bare
  number counts only from 1,000 up ("$80000 deal", "$18;000 deal"), since
  "$12 (symbolic price)" and "CHF310 m ($240)" show small bare numbers are
  symbolic prices or typos. A dollar value above $100 b, beyond any arms
  deal ever reported, is a typo ("Part of $660 b deal") and is dropped.
* Currencies: ISO 4217 codes as written, incl. pre-euro ones (DEM, FRF,
  ESP, ...). SIPRI's own spellings and evident typos are mapped to ISO (DM,
  FFR, DKR, BFR, HFL, ASH, LIT, Ptas, NTD/TWS, Rs/INS, RMB, NIS, RM, CAS,
  AUS, and GDP/GPB, KWR, TBH, MNX, QAT, PNP, TNHD). CFA (XOF or XAF?), RRS
  and the pre-decimal Australian and New Zealand pounds AUP/NZP have no sure
  ISO code and stay as written. SAR stays Saudi riyal although its one use
  in 2025-03 is a South African rand figure.
* Not checked: whether the dollar figure fits the local one. SIPRI's
  "AUD3 b ($2.4 m)" is read as $2.4 m, as written.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

CURRENCY_CODES: dict[str, str] = {
    **{c: c for c in (
        "USD AUD CAD NZD SGD TWD EUR GBP CHF SEK NOK DKK ISK CZK PLN HUF RON HRK "
        "BGN RUB UAH TRY ILS AED SAR QAR KWD OMR BHD JOD EGP MAD TND DZD ZAR NGN "
        "KES UGX INR PKR BDT LKR THB MYR IDR PHP KRW JPY CNY HKD VND BRL MXN ARS "
        "CLP COP PEN BOB PYG UYU SRD DEM FRF BEF NLG ATS ITL ESP PTE FIM GRD IEP "
        "EEK LTL LVL SKK SIT PLZ"
    ).split()},
    "US$": "USD", "$": "USD", "DM": "DEM", "FFR": "FRF", "DKR": "DKK", "BFR": "BEF",
    "HFL": "NLG", "ASH": "ATS", "LIT": "ITL", "Ptas": "ESP", "NTD": "TWD", "TWS": "TWD",
    "Rs": "INR", "INS": "INR", "RMB": "CNY", "NIS": "ILS", "RM": "MYR", "CAS": "CAD",
    "AUS": "AUD", "GDP": "GBP", "GPB": "GBP", "KWR": "KRW", "TBH": "THB", "MNX": "MXN",
    "QAT": "QAR", "PNP": "PHP", "TNHD": "TND", "CFA": "CFA", "RRS": "RRS", "AUP": "AUP",
    "NZP": "NZP",
}

_MULTIPLIERS = {"k": 1e-3, "m": 1.0, "mn": 1.0, "million": 1.0, "crore": 10.0,
                "crores": 10.0, "b": 1e3, "bn": 1e3, "billion": 1e3, "biliion": 1e3,
                "tr": 1e6, "trillion": 1e6}
_USD = r"(?:US\$|USD|\$)"
_CODES = "|".join(re.escape(c) for c in sorted(CURRENCY_CODES, key=len, reverse=True)
                   if c[0] != "$")
_CUR = rf"(?:US\$|\$|(?<![A-Za-z0-9])(?:{_CODES})(?![A-Za-z]))"
# A cheap superset of _CUR (no look-arounds, so Arrow's regex engine runs it).
_MONEY_HINT = rf"\$|\b(?:{_CODES})"
_NUM = r"(?:\d{1,3}(?:[;,]\d{3})+|\d+(?:\.\d+)?)"
_MULT = r"(?:trillion|tr|billion|biliion|bn|b|million|mn|m|crores?|k)(?![A-Za-z])\.?"
_KIND = (r"(?i:deal|contract\b|programme\b|program\b|project\b|aid\b|lease\b|plan\b"
         r"|moderni[sz]ation\b|modification\b)")
_FILLER = r"(?i:(?:\d+[- ](?:year|month)s?|emergency|anti-narcotics|military)\s*){0,2}"
_QUALIFIER = (r"possibly|probably|about|around|approximately|reportedly|some|larger|illegal"
              r"|total|up\s+to|at\s+least|over|a|an|the")


def _amount(p: str, cur: str = _CUR) -> str:
    """One amount or range; named groups `{p}cur/lo/lomult/hi/mult` when p is given."""
    g = (lambda n: f"?P<{p}{n}>") if p else (lambda n: "?:")
    return (rf"({g('cur')}{cur})\s?({g('lo')}{_NUM})(?:-{_NUM}(?=(?:\s?{_MULT})?\s?or\s))?\+?"
            rf"(?:\s?({g('lomult')}{_MULT}))?"
            rf"(?:\s?(?:-|or)\s?(?:{_CUR}\s?)?(?:{_NUM}-(?=\d))?({g('hi')}{_NUM}))?"
            rf"(?:\s?({g('mult')}{_MULT}))?")


_PATTERN = re.compile(
    rf"(?:(?P<lead>;)\s*|(?P<pre>(?!(?i:part|{_QUALIFIER})\b)[A-Za-z]+)\s+)?"
    r"(?P<text>"
    r"(?P<part>(?i:part\s+(?:of\s+)?))?"
    rf"(?i:(?:(?:{_QUALIFIER})\s+)*)"
    rf"(?P<worth>{_KIND}\s*(?P<wparen>\()?\s*(?i:worth)\s+)?"
    + _amount("a_")
    + r"(?(wparen)(?=\s*\)))"
    + rf"(?:\s?/\s?{_amount('')})?"
    + rf"(?:\s*[(\[]\s*{_amount('p_')}(?:\s*(?P<kind_in>{_KIND}))?(?:\s*;[^()\[\]]*)?\s*[)\]])?"
    r"(?:\s*\((?i:incl)[^()]*\))?"
    r"(?P<names>\s*'[^']*'(?:\s*(?i:or|and|of)\s*'[^']*')*)?"
    rf"(?:\s*{_FILLER}(?P<kind>{_KIND}))?"
    + rf"(?:\s*[(\[]\s*{_amount('q_', _USD)}(?:\s*[)\]]|(?=\s*;)))?"
    r"(?=\s*(?:\((?i:incl|offsets)[^()]*\)\s*)?(?P<alone>;))?"
    r")"
)
_EXCLUDED_PRE = r"(?i)^(?:original|originally|offsets?|incl|including|plus|additional|with|by)$"
_MAX_USD_M = 100_000  # above any arms deal reported; $660 b (Swedish NH-90) is a SIPRI typo


def _millions(m: pd.DataFrame, p: str) -> tuple[pd.Series, pd.Series]:
    """Lower and upper bound in millions; NaN for bare numbers below 1,000."""
    def num(col: str) -> pd.Series:
        return pd.to_numeric(m[p + col].str.replace(r"[;,]", "", regex=True))

    unit = m[p + "mult"].str.rstrip(".").str.lower().map(_MULTIPLIERS)
    lo_unit = m[p + "lomult"].str.rstrip(".").str.lower().map(_MULTIPLIERS).fillna(unit)
    lo, hi = num("lo"), num("hi")
    bare = unit.isna() & lo_unit.isna()
    lo = (lo * lo_unit).where(~bare, (lo / 1e6).where(lo >= 1000))
    hi = (hi * unit).where(~bare, (hi / 1e6).where(hi >= 1000)).fillna(lo)
    return np.fmin(lo, hi), np.fmax(lo, hi)


def parse_reported_values(comments: pd.Series) -> pd.DataFrame:
    """First deal value stated in each comment; see the module docstring for the rules.

    The full pattern runs once per distinct comment that has a digit next to a
    currency sign or code; the other six in seven comments name no amount.
    """
    text = comments.fillna("").astype(str)
    codes, uniques = pd.factorize(text)
    distinct = pd.Series(uniques, dtype=str)
    money = distinct[distinct.str.contains(_MONEY_HINT, regex=True) & distinct.str.contains(r"\d", regex=True)]
    parsed = _parse(money.reset_index(drop=True))
    parsed.index = money.index
    full = parsed.reindex(range(len(distinct)))
    out = full.iloc[codes].reset_index(drop=True)
    out.index = comments.index
    return _fill(out)




def _fill(out: pd.DataFrame) -> pd.DataFrame:
    for col in ("reported_value_scope", "reported_value_currency", "reported_value_text"):
        out[col] = out[col].fillna("")
    return out.astype({"reported_value_usd_m": float, "reported_value_usd_m_max": float,
                       "reported_value_amount": float})


def _parse(text: pd.Series) -> pd.DataFrame:
    if text.empty:
        return pd.DataFrame(columns=["reported_value_usd_m", "reported_value_usd_m_max", "reported_value_scope",
                                     "reported_value_amount", "reported_value_currency", "reported_value_text"])
    # Framed by ";" so that a clause boundary is always a character to capture.
    m = ("; " + text + ";").str.extractall(_PATTERN)
    lo, hi = _millions(m, "a_")
    p_lo, p_hi = _millions(m, "p_")
    q_lo, q_hi = _millions(m, "q_")
    currency = m["a_cur"].map(CURRENCY_CODES)
    p_usd = m["p_cur"].map(CURRENCY_CODES).eq("USD") & p_lo.notna()
    usd_lo = lo.where(currency.eq("USD"), p_lo.where(p_usd, q_lo))
    usd_hi = hi.where(currency.eq("USD"), p_hi.where(p_usd, q_hi))
    worded = m[["worth", "kind_in", "names", "kind"]].notna().any(axis=1)
    tier = pd.Series(np.where(worded, 0, 1), index=m.index)
    clause = m["lead"].notna() & m["alone"].notna()
    ok = ((lo.notna() | usd_lo.notna()) & (worded | m["part"].notna() | clause)
          & ~m["pre"].fillna("").str.contains(_EXCLUDED_PRE)
          & ~usd_hi.gt(_MAX_USD_M))
    found = pd.DataFrame({
        "reported_value_usd_m": usd_lo,
        "reported_value_usd_m_max": usd_hi,
        "reported_value_scope": np.where(m["part"].notna(), "part of", "deal"),
        "reported_value_amount": lo,
        "reported_value_currency": currency,
        "reported_value_text": m["text"],
        "_tier": tier,
    })[ok]
    found = found.assign(_row=found.index.get_level_values(0)).sort_values(
        ["_row", "_tier"], kind="stable").groupby("_row").head(1)
    return found.set_index("_row").drop(columns="_tier").reindex(range(len(text)))
