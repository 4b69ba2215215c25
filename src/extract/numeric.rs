//! Rule-based numeric entities: DATE, MONEY, PERCENT and QUANTITY.
//!
//! Input: the document text, its tokens, one sentence's token range and the document's
//! published date. Output: [`NumericMatch`]es over token ranges, in order, never overlapping,
//! each with a normalised value:
//! - MONEY `"<amount> <ISO 4217 code>"`: "$500 million" → "500000000 USD", "5.93 mln dlrs" →
//!   "5930000 USD", "£3bn" → "3000000000 GBP". Amounts are exact decimals (no float rounding).
//! - PERCENT the number as written without separators: "12.5 pct" → "12.5".
//! - QUANTITY `"<amount> <unit>"`: "155,221 bags" → "155221 bag", "10 km" → "10 km".
//! - DATE ISO 8601 ("2015-09-27", "1987-03", "1987"), or no value when it cannot be resolved
//!   (a weekday without a published date, "in May").
//!
//! Precision first: a number becomes a mention only next to a currency, percent sign/word or
//! known unit, and a bare year only after a temporal preposition ("in 1987"). Relative dates
//! ("Sunday", "yesterday") resolve against the published date: a weekday is the most recent such
//! day on or before it ("next Sunday": the first after it). Pure functions; never panic.

use std::ops::Range;

use crate::doc::EntityType;
use crate::extract::tokens::Token;
use crate::lower::AsciiLower;

/// One numeric mention over global token indices `tokens` (exclusive end).
#[derive(Debug, Clone, PartialEq)]
pub struct NumericMatch {
    /// Token index range in the document.
    pub tokens: Range<usize>,
    /// DATE, MONEY, PERCENT or QUANTITY.
    pub etype: EntityType,
    /// Normalised value (see the module docs), when resolvable.
    pub value: Option<String>,
}

/// A calendar date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year.
    pub y: i32,
    /// Month 1–12.
    pub m: u32,
    /// Day 1–31.
    pub d: u32,
}

impl Date {
    /// Parses the leading "YYYY-MM-DD" of an ISO 8601 date or timestamp; None otherwise.
    pub fn parse_iso(s: &str) -> Option<Date> {
        let b = s.trim().as_bytes();
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: Range<usize>| -> Option<u32> {
            let t = std::str::from_utf8(b.get(r)?).ok()?;
            t.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| t.parse().ok())?
        };
        let (y, m, d) = (num(0..4)? as i32, num(5..7)?, num(8..10)?);
        if b.len() > 10 && b[10].is_ascii_digit() {
            return None;
        }
        Date::new(y, m, d)
    }

    /// A valid date or None.
    pub fn new(y: i32, m: u32, d: u32) -> Option<Date> {
        ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then_some(Date { y, m, d })
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days(self) -> i64 {
        // Shift the year to start in March so the leap day is the year's last day.
        let y = i64::from(self.y) - i64::from(self.m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (i64::from(self.m) + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(self.d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = (yoe + era * 400 + i64::from(m <= 2)) as i32;
        Date { y, m, d }
    }

    /// Weekday, Monday = 0.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (3).
        (self.days() + 3).rem_euclid(7) as u32
    }

    /// The date `n` days later (earlier when negative).
    pub fn add_days(self, n: i64) -> Date {
        Date::from_days(self.days() + n)
    }

    /// ISO 8601 "YYYY-MM-DD".
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.y, self.m, self.d)
    }
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Scale words and their powers of ten.
fn scale_word(w: &str) -> Option<i32> {
    Some(match w.ascii_lower().as_str() {
        "thousand" => 3,
        "million" | "mln" | "mn" | "millions" => 6,
        "billion" | "bln" | "bn" | "billions" => 9,
        "trillion" | "tln" | "trillions" => 12,
        _ => return None,
    })
}

/// Currency words (after the amount) and their ISO 4217 codes.
fn currency_word(w: &str) -> Option<(&'static str, i32)> {
    Some(match w.ascii_lower().as_str() {
        "dollars" | "dollar" | "dlrs" | "dlr" => ("USD", 0),
        "cents" => ("USD", -2),
        "euros" | "euro" => ("EUR", 0),
        "pounds" | "sterling" | "stg" | "stlg" => ("GBP", 0),
        "pence" => ("GBP", -2),
        "yen" => ("JPY", 0),
        "yuan" | "renminbi" => ("CNY", 0),
        "rupees" => ("INR", 0),
        "roubles" | "rubles" => ("RUB", 0),
        "francs" => ("CHF", 0),
        "riyals" => ("SAR", 0),
        "rand" => ("ZAR", 0),
        "pesos" => ("MXN", 0),
        "lira" | "lire" => ("TRY", 0),
        "shekels" => ("ILS", 0),
        "usd" | "eur" | "gbp" | "jpy" | "cny" | "chf" | "cad" | "aud" | "rub" | "inr" | "hkd" => {
            return iso_code(w).map(|c| (c, 0))
        }
        _ => return None,
    })
}

fn iso_code(w: &str) -> Option<&'static str> {
    const CODES: [&str; 11] = [
        "USD", "EUR", "GBP", "JPY", "CNY", "CHF", "CAD", "AUD", "RUB", "INR", "HKD",
    ];
    CODES.into_iter().find(|c| c.eq_ignore_ascii_case(w))
}

/// Qualifiers that pick the dollar ("Canadian dollars") — one or two tokens.
fn dollar_qualifier(words: &[&str]) -> Option<(usize, &'static str)> {
    let two = words.get(..2).map(|w| format!("{} {}", w[0], w[1]));
    match two.as_deref() {
        Some("Hong Kong") => return Some((2, "HKD")),
        Some("New Zealand") => return Some((2, "NZD")),
        _ => {}
    }
    let code = match *words.first()? {
        "U.S." | "US" | "American" => "USD",
        "Canadian" => "CAD",
        "Australian" => "AUD",
        "Singapore" => "SGD",
        "Taiwan" => "TWD",
        _ => return None,
    };
    Some((1, code))
}

/// Currency symbols (a token of their own) and their codes.
fn currency_symbol(w: &str) -> Option<&'static str> {
    Some(match w {
        "$" => "USD",
        "£" => "GBP",
        "€" => "EUR",
        "¥" => "JPY",
        "₹" => "INR",
        "₽" => "RUB",
        _ => return None,
    })
}

/// Units after an amount and their canonical names.
fn unit_word(w: &str) -> Option<&'static str> {
    Some(match w.ascii_lower().as_str() {
        "kilos" | "kilo" | "kg" | "kgs" | "kilograms" | "kilogram" | "kilogrammes" => "kg",
        "grams" | "gram" | "grammes" => "g",
        "tonnes" | "tonne" | "tons" | "ton" => "t",
        "lbs" | "lb" => "lb",
        "ounces" | "ounce" | "oz" => "oz",
        "km" | "kms" | "kilometres" | "kilometers" | "kilometre" | "kilometer" => "km",
        "metres" | "meters" | "metre" | "meter" => "m",
        "cm" | "centimetres" | "centimeters" => "cm",
        "mm" | "millimetres" | "millimeters" => "mm",
        "miles" | "mile" => "mi",
        "feet" | "foot" | "ft" => "ft",
        "hectares" | "hectare" => "ha",
        "acres" | "acre" => "acre",
        "barrels" | "barrel" | "bbl" => "bbl",
        "bpd" => "bbl/d",
        "litres" | "liters" | "litre" | "liter" => "l",
        "gallons" | "gallon" => "gal",
        "bushels" | "bushel" => "bu",
        "bags" | "bag" => "bag",
        "bales" | "bale" => "bale",
        "megawatts" | "mw" => "MW",
        "gigawatts" | "gw" => "GW",
        "kwh" => "kWh",
        "degrees" => "degree",
        _ => return None,
    })
}

/// A parsed amount: digits without separators and an optional attached scale ("3bn").
struct Amount {
    digits: String,
    scale: Option<i32>,
}

/// Parses "500", "1,000.50", "5.93" and (when `attached_scale`) "3bn", "5m", "2.5mln".
fn parse_amount(w: &str, attached_scale: bool) -> Option<Amount> {
    let split = w.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(w.len());
    let (num, suffix) = w.split_at(split);
    let scale = if suffix.is_empty() {
        None
    } else if attached_scale {
        Some(match suffix.ascii_lower().as_str() {
            "k" => 3,
            "m" | "mn" | "mln" => 6,
            "bn" | "b" | "bln" => 9,
            "tn" | "trn" => 12,
            _ => return None,
        })
    } else {
        return None;
    };
    if num.is_empty()
        || !num.as_bytes()[0].is_ascii_digit()
        || !num.as_bytes()[num.len() - 1].is_ascii_digit()
    {
        return None;
    }
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.len() > 1 && int.starts_with('0') {
        return None; // "000" is a fragment of a malformed number, not an amount
    }
    if frac.contains(['.', ',']) || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if int.contains(',') {
        let groups: Vec<&str> = int.split(',').collect();
        let ok = (1..=3).contains(&groups[0].len())
            && groups[1..].iter().all(|g| g.len() == 3)
            && groups.iter().all(|g| g.bytes().all(|c| c.is_ascii_digit()));
        if !ok {
            return None;
        }
    } else if !int.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let digits = if frac.is_empty() {
        int.replace(',', "")
    } else {
        format!("{}.{frac}", int.replace(',', ""))
    };
    Some(Amount { digits, scale })
}

/// Exact decimal `digits × 10^pow` as a plain string without exponent ("5.93", 6 → "5930000").
pub fn scale_decimal(digits: &str, pow: i32) -> String {
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mut all: String = format!("{int}{frac}");
    let mut point = int.len() as i64 + i64::from(pow);
    if point < 0 {
        all = format!("{}{all}", "0".repeat((-point) as usize));
        point = 0;
    }
    let point = point as usize;
    if all.len() < point {
        all.push_str(&"0".repeat(point - all.len()));
    }
    let (i, f) = all.split_at(point);
    let i = i.trim_start_matches('0');
    let i = if i.is_empty() { "0" } else { i };
    let f = f.trim_end_matches('0');
    if f.is_empty() {
        i.to_string()
    } else {
        format!("{i}.{f}")
    }
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Whether a lower-case word is a full month or weekday name.
pub(crate) fn is_day_or_month(lower: &str) -> bool {
    MONTHS.contains(&lower) || WEEKDAYS.contains(&lower)
}

/// Month number of a capitalised month name or abbreviation ("Feb", "Feb.", "Sept."), and
/// whether it is a full name.
fn month_of(w: &str) -> Option<(u32, bool)> {
    if !w.chars().next().is_some_and(char::is_uppercase) {
        return None;
    }
    let l = w.trim_end_matches('.').ascii_lower();
    if let Some(i) = MONTHS.iter().position(|m| *m == l.as_str()) {
        return Some((i as u32 + 1, true));
    }
    if l.len() >= 3 && l != "may" {
        let i = MONTHS
            .iter()
            .position(|m| m.starts_with(l.as_str()) && (l.len() == 3 || l == "sept"))?;
        return Some((i as u32 + 1, false));
    }
    None
}

fn day_of(w: &str) -> Option<u32> {
    let w = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    if w.is_empty() || w.len() > 2 || !w.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let d: u32 = w.parse().ok()?;
    (1..=31).contains(&d).then_some(d)
}

fn year_of(w: &str) -> Option<i32> {
    if w.len() != 4 || !w.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let y: i32 = w.parse().ok()?;
    (1000..=2999).contains(&y).then_some(y)
}

/// Words that make a following bare year or month name a date ("in 1987", "since March").
fn temporal_cue(w: &str) -> bool {
    matches!(
        w.ascii_lower().as_str(),
        "in" | "since"
            | "by"
            | "until"
            | "till"
            | "from"
            | "during"
            | "before"
            | "after"
            | "through"
            | "early"
            | "late"
            | "mid"
            | "last"
            | "next"
            | "this"
            | "of"
            | "between"
            | "and"
            | "to"
    )
}

/// Finds numeric mentions in the sentence `range` of `tokens`.
pub fn find_numeric(
    text: &str,
    tokens: &[Token],
    range: Range<usize>,
    published: Option<Date>,
) -> Vec<NumericMatch> {
    let range = range.start.min(tokens.len())..range.end.min(tokens.len());
    let words: Vec<&str> = tokens[range.clone()].iter().map(|t| t.text(text)).collect();
    let adjacent = |i: usize| -> bool {
        // Token i and i+1 (sentence-relative) touch with no space between them.
        let a = range.start + i;
        tokens.get(a + 1).is_some_and(|n| n.start == tokens[a].end)
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if !could_start(words[i]) {
            i += 1;
            continue;
        }
        match rules_at(&words, i, &adjacent, published) {
            Some((n, etype, value)) if n > 0 => {
                out.push(NumericMatch {
                    tokens: range.start + i..range.start + i + n,
                    etype,
                    value,
                });
                i += n;
            }
            _ => i += 1,
        }
    }
    out
}

/// Cheap pre-check: can a numeric mention start at this token? (Digits, currency symbols,
/// capitalised words for months/weekdays/codes/"US$", and the few lowercase relative-date
/// words.) Other punctuation cannot: every rule after a non-alphanumeric first char needs a
/// leading digit, except a currency symbol's money rule.
fn could_start(w: &str) -> bool {
    match w.chars().next() {
        Some(c) if c.is_ascii_digit() => true,
        Some(c) if c.is_uppercase() => upper_may_start(w),
        Some(c) if c.is_lowercase() => {
            matches!(
                w,
                "yesterday" | "today" | "tomorrow" | "last" | "next" | "this"
            )
        }
        Some(c) => !c.is_alphanumeric() && currency_symbol(w).is_some(),
        None => false,
    }
}

/// Whether a word with an upper-case first letter can start a numeric mention: only the
/// money prefixes glued to "$" ("US", "HK"), ISO currency codes, relative-day words at a
/// sentence start ("Yesterday", "Last"), weekdays and month names or abbreviations can (every
/// other rule needs a leading digit). Capitalised words are a fifth of news tokens, and each
/// went through all four rules.
fn upper_may_start(w: &str) -> bool {
    // Longest: "September."-like forms are trimmed of dots first; "Wednesday" is 9 bytes.
    let t = w.trim_end_matches('.');
    if t.len() > 9 || !w.is_ascii() {
        return false;
    }
    let is = |x: &str| {
        matches!(
            x,
            "us" | "u.s."
                | "c"
                | "a"
                | "hk"
                | "nz"
                | "s"
                | "usd"
                | "eur"
                | "gbp"
                | "jpy"
                | "cny"
                | "chf"
                | "cad"
                | "aud"
                | "rub"
                | "inr"
                | "hkd"
                | "yesterday"
                | "today"
                | "tomorrow"
                | "last"
                | "next"
                | "this"
                | "monday"
                | "tuesday"
                | "wednesday"
                | "thursday"
                | "friday"
                | "saturday"
                | "sunday"
                | "january"
                | "february"
                | "march"
                | "april"
                | "may"
                | "june"
                | "july"
                | "august"
                | "september"
                | "october"
                | "november"
                | "december"
                | "jan"
                | "feb"
                | "mar"
                | "apr"
                | "jun"
                | "jul"
                | "aug"
                | "sep"
                | "sept"
                | "oct"
                | "nov"
                | "dec"
        )
    };
    // Lowercased once: "U.S." is listed with its dots, "Sept." and "Jan." without.
    let l = w.ascii_lower();
    is(l.as_str()) || (t.len() < w.len() && is(l.trim_end_matches('.')))
}

type Found = Option<(usize, EntityType, Option<String>)>;

/// The amount at a token with its optional scale word: (tokens used, digits, power of ten).
type AmountAt = (usize, String, i32);

/// The first rule that matches at `words[i]`: money, percent, quantity, date. The amount a
/// digit token starts is parsed once here for the three rules that read it (each parsed it
/// again, with a string copy per parse).
fn rules_at(
    words: &[&str],
    i: usize,
    adjacent: &dyn Fn(usize) -> bool,
    published: Option<Date>,
) -> Found {
    let amount = words
        .get(i)
        .filter(|w| w.as_bytes().first().is_some_and(u8::is_ascii_digit))
        .and_then(|_| amount_at(words, i, false));
    let amount = amount.as_ref();
    money_at(words, i, adjacent, amount)
        .or_else(|| percent_at(words, i, amount))
        .or_else(|| quantity_at(words, i, amount))
        .or_else(|| date_at(words, i, published))
}

/// Amount (with optional scale word) at `words[i]`: (tokens used, digits, power of ten).
fn amount_at(words: &[&str], i: usize, attached_scale: bool) -> Option<(usize, String, i32)> {
    let a = parse_amount(words.get(i)?, attached_scale)?;
    let mut pow = a.scale.unwrap_or(0);
    let mut n = 1;
    if a.scale.is_none() {
        if let Some(s) = words.get(i + 1).and_then(|w| scale_word(w)) {
            pow = s;
            n = 2;
        }
    }
    Some((n, a.digits, pow))
}

/// `amount` is `amount_at(words, i, false)` (see [`rules_at`]).
fn money_at(
    words: &[&str],
    i: usize,
    adjacent: &dyn Fn(usize) -> bool,
    amount: Option<&AmountAt>,
) -> Found {
    let money =
        |digits: &str, pow: i32, code: &str| Some(format!("{} {code}", scale_decimal(digits, pow)));
    // Prefixed letters glued to "$": "US$", "C$", "HK$".
    let mut sym_at = i;
    let mut code = None;
    if words.get(i + 1) == Some(&"$") && adjacent(i) {
        code = match words[i] {
            "US" | "U.S." => Some("USD"),
            "C" => Some("CAD"),
            "A" => Some("AUD"),
            "HK" => Some("HKD"),
            "NZ" => Some("NZD"),
            "S" => Some("SGD"),
            _ => None,
        };
        if code.is_some() {
            sym_at = i + 1;
        }
    }
    let code = code.or_else(|| currency_symbol(words[i]).filter(|_| sym_at == i));
    if let Some(code) = code {
        let (n, digits, pow) = amount_at(words, sym_at + 1, true)?;
        let used = sym_at + 1 + n - i;
        return Some((used, EntityType::Money, money(&digits, pow, code)));
    }
    // ISO code first: "USD 500".
    if let Some(code) =
        iso_code(words[i]).filter(|_| words[i].chars().all(|c| c.is_ascii_uppercase()))
    {
        let (n, digits, pow) = amount_at(words, i + 1, false)?;
        return Some((1 + n, EntityType::Money, money(&digits, pow, code)));
    }
    // Amount then currency word: "5.93 mln dlrs", "20 billion yen", "10 Canadian dollars".
    let &(n, ref digits, pow) = amount?;
    let mut j = i + n;
    let mut qual = None;
    if let Some((q, c)) = dollar_qualifier(&words[j.min(words.len())..]) {
        qual = Some(c);
        j += q;
    }
    let (code, extra) = currency_word(words.get(j)?)?;
    let code = match (qual, code) {
        (Some(q), "USD") => q,
        (Some(_), _) => return None,
        (None, c) => c,
    };
    let mut used = j + 1 - i;
    if code == "GBP"
        && words
            .get(j + 1)
            .is_some_and(|w| w.eq_ignore_ascii_case("sterling"))
    {
        used += 1;
    }
    Some((used, EntityType::Money, money(digits, pow + extra, code)))
}

/// `amount` as for [`money_at`]. A scale word after the number ("5 million") is no percent
/// sign, so reading the amount with its scale word changes no match.
fn percent_at(words: &[&str], i: usize, amount: Option<&AmountAt>) -> Found {
    let (_, digits, _) = amount?;
    let next = words.get(i + 1)?.ascii_lower();
    let n = match next.as_str() {
        "%" | "percent" | "pct" => 2,
        "per"
            if words
                .get(i + 2)
                .is_some_and(|w| w.eq_ignore_ascii_case("cent")) =>
        {
            3
        }
        "percentage"
            if words
                .get(i + 2)
                .is_some_and(|w| w.ascii_lower().starts_with("point")) =>
        {
            3
        }
        _ => return None,
    };
    Some((n, EntityType::Percent, Some(digits.clone())))
}

/// `amount` as for [`money_at`].
fn quantity_at(words: &[&str], i: usize, amount: Option<&AmountAt>) -> Found {
    let &(n, ref digits, pow) = amount?;
    let j = i + n;
    let w = words.get(j)?;
    // "barrels per day" reads as one unit.
    if w.eq_ignore_ascii_case("barrels")
        && words
            .get(j + 1)
            .is_some_and(|w| w.eq_ignore_ascii_case("per"))
        && words
            .get(j + 2)
            .is_some_and(|w| w.eq_ignore_ascii_case("day"))
    {
        return Some((
            n + 3,
            EntityType::Quantity,
            Some(format!("{} bbl/d", scale_decimal(digits, pow))),
        ));
    }
    let unit = unit_word(w)?;
    Some((
        n + 1,
        EntityType::Quantity,
        Some(format!("{} {unit}", scale_decimal(digits, pow))),
    ))
}

fn date_at(words: &[&str], i: usize, published: Option<Date>) -> Found {
    let w = words.get(i)?;
    let lower = w.ascii_lower();
    let date = EntityType::Date;
    // ISO date token.
    if let Some(d) = Date::parse_iso(w).filter(|_| w.len() == 10) {
        return Some((1, date, Some(d.iso())));
    }
    // Relative days.
    let rel = match lower.as_str() {
        "yesterday" => Some(-1),
        "today" => Some(0),
        "tomorrow" => Some(1),
        _ => None,
    };
    if let Some(off) = rel {
        return Some((1, date, published.map(|p| p.add_days(off).iso())));
    }
    // last/next/this week|month|year.
    if matches!(lower.as_str(), "last" | "next" | "this") {
        let unit = words.get(i + 1).map(|u| u.ascii_lower());
        let off = match lower.as_str() {
            "last" => -1,
            "next" => 1,
            _ => 0,
        };
        let value = match (unit.as_deref(), published) {
            (Some("year"), Some(p)) => Some(format!("{:04}", p.y + off)),
            (Some("month"), Some(p)) => {
                let m0 = p.y * 12 + p.m as i32 - 1 + off;
                Some(format!(
                    "{:04}-{:02}",
                    m0.div_euclid(12),
                    m0.rem_euclid(12) + 1
                ))
            }
            (Some("year" | "month" | "week"), _) => None,
            _ => return None,
        };
        return Some((2, date, value));
    }
    // Weekdays: "Sunday" → most recent on or before published; "next Sunday" → first after.
    if w.chars().next().is_some_and(char::is_uppercase) {
        if let Some(wd) = WEEKDAYS.iter().position(|d| *d == lower.as_str()) {
            let next = i > 0 && words[i - 1].eq_ignore_ascii_case("next");
            let value = published.map(|p| {
                let cur = p.weekday() as i64;
                let wd = wd as i64;
                let back = (cur - wd).rem_euclid(7);
                if next {
                    let fwd = (wd - cur).rem_euclid(7);
                    p.add_days(if fwd == 0 { 7 } else { fwd }).iso()
                } else {
                    p.add_days(-back).iso()
                }
            });
            return Some((1, date, value));
        }
    }
    // Month-based dates.
    if let Some((m, full)) = month_of(w) {
        // Month Day[,] [Year]
        if let Some(d) = words.get(i + 1).and_then(|x| day_of(x)) {
            let (mut n, mut year) = (2, None);
            if words.get(i + 2) == Some(&",") {
                if let Some(y) = words.get(i + 3).and_then(|x| year_of(x)) {
                    n = 4;
                    year = Some(y);
                }
            } else if let Some(y) = words.get(i + 2).and_then(|x| year_of(x)) {
                n = 3;
                year = Some(y);
            }
            return Some((n, date, resolve_month_day(year, m, d, published)));
        }
        // Month Year
        if let Some(y) = words.get(i + 1).and_then(|x| year_of(x)) {
            return Some((2, date, Some(format!("{y:04}-{m:02}"))));
        }
        // Month alone after a temporal cue; "May" and abbreviations need more evidence.
        // The value is the month nearest the published date ("last"/"next" pick the side).
        if full && lower != "may" && i > 0 && temporal_cue(words[i - 1]) {
            let side = words[i - 1].ascii_lower();
            return Some((1, date, published.map(|p| resolve_month(m, p, &side))));
        }
        return None;
    }
    // Day Month [Year]: "26 February 1987".
    if let Some(d) = day_of(w).filter(|_| w.bytes().all(|c| c.is_ascii_digit())) {
        let (m, _) = words.get(i + 1).and_then(|x| month_of(x))?;
        if let Some(y) = words.get(i + 2).and_then(|x| year_of(x)) {
            return Some((3, date, resolve_month_day(Some(y), m, d, published)));
        }
        return Some((2, date, resolve_month_day(None, m, d, published)));
    }
    // Bare year after a temporal cue: "in 1987", "since 2015"; decades "1990s".
    if i > 0 && temporal_cue(words[i - 1]) {
        if let Some(y) = year_of(w).filter(|y| (1800..=2100).contains(y)) {
            return Some((1, date, Some(format!("{y:04}"))));
        }
    }
    if w.len() == 5 && w.ends_with("0s") && year_of(&w[..4]).is_some() {
        return Some((1, date, None));
    }
    None
}

/// "YYYY-MM" for a month name alone: the occurrence nearest `p`, or the previous/next one
/// after "last"/"next".
fn resolve_month(m: u32, p: Date, side: &str) -> String {
    let cur = p.y * 12 + p.m as i32 - 1;
    let cands = [
        (p.y - 1) * 12 + m as i32 - 1,
        p.y * 12 + m as i32 - 1,
        (p.y + 1) * 12 + m as i32 - 1,
    ];
    let pick = match side {
        "last" => cands.into_iter().filter(|c| *c < cur).max(),
        "next" => cands.into_iter().filter(|c| *c > cur).min(),
        _ => cands
            .into_iter()
            .min_by_key(|c| ((c - cur).abs(), *c > cur)),
    }
    .unwrap_or(cur);
    format!("{:04}-{:02}", pick.div_euclid(12), pick.rem_euclid(12) + 1)
}

/// ISO date for a month/day, taking the year given or else the one that puts the date closest
/// to the published date.
fn resolve_month_day(year: Option<i32>, m: u32, d: u32, published: Option<Date>) -> Option<String> {
    if let Some(y) = year {
        return Date::new(y, m, d).map(Date::iso);
    }
    let p = published?;
    (p.y - 1..=p.y + 1)
        .filter_map(|y| Date::new(y, m, d))
        .min_by_key(|c| (c.days() - p.days()).abs())
        .map(Date::iso)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::tokens::tokenize;

    fn run(s: &str, published: Option<&str>) -> Vec<(String, &'static str, Option<String>)> {
        let toks = tokenize(s);
        let p = published.and_then(Date::parse_iso);
        find_numeric(s, &toks, 0..toks.len(), p)
            .into_iter()
            .map(|m| {
                let a = toks[m.tokens.start].byte_start;
                let b = toks[m.tokens.end - 1].byte_end;
                (s[a..b].to_string(), m.etype.as_str(), m.value)
            })
            .collect()
    }

    fn one(s: &str, published: Option<&str>) -> (String, &'static str, Option<String>) {
        let v = run(s, published);
        assert_eq!(v.len(), 1, "{s}: {v:?}");
        v.into_iter().next().expect("one")
    }

    /// The capitalised-word filter never hides a mention: every listed or crafted word, in
    /// several cases and with trailing dots, in contexts each rule accepts, gives the same
    /// matches with the filter as with every capitalised word tried.
    #[test]
    fn upper_case_filter_hides_no_mention() {
        let base = [
            "US",
            "U.S.",
            "C",
            "A",
            "HK",
            "NZ",
            "S",
            "USD",
            "Eur",
            "Gbp",
            "Yesterday",
            "Today",
            "Tomorrow",
            "Last",
            "Next",
            "This",
            "Monday",
            "Wednesday",
            "Sunday",
            "January",
            "May",
            "September",
            "Sept",
            "Jan",
            "Feb",
            "Dec",
            "Reuters",
            "Kerry",
            "Mar",
            "Marc",
            "June",
            "Jun",
            "Ju",
            "Aug",
            "Augustus",
            "Oct",
            "Octo",
            "Nov",
            "Sep",
            "Sepp",
            "Apr",
            "Dollar",
            "Yen",
            "Canadian",
            "Hong",
            "New",
            "In",
            "Since",
            "Élysée",
            "Über",
            "Z",
        ];
        let mut words: Vec<String> = Vec::new();
        for w in base {
            for v in [
                w.to_string(),
                w.to_uppercase(),
                format!("{w}."),
                format!("{w}.."),
            ] {
                words.push(v);
            }
        }
        let contexts = [
            "{} $ 5 million",
            "{}$ 5 million",
            "{} 500 mln",
            "{} 26 , 1987",
            "{} 26",
            "{} 1987",
            "in {}",
            "since {} 1987",
            "next {}",
            "{} week",
            "{} month",
            "{} year",
            "{} 5 pct",
        ];
        let p = Date::parse_iso("1987-03-04");
        for w in &words {
            for c in contexts {
                let text = c.replace("{}", w);
                let toks = tokenize(&text);
                let got = find_numeric(&text, &toks, 0..toks.len(), p);
                let words_of: Vec<&str> = toks.iter().map(|t| t.text(&text)).collect();
                // The same scan with every capitalised word tried.
                let adjacent = |i: usize| toks.get(i + 1).is_some_and(|n| n.start == toks[i].end);
                let mut want = Vec::new();
                let mut i = 0;
                while i < words_of.len() {
                    match rules_at(&words_of, i, &adjacent, p) {
                        Some((n, etype, value)) if n > 0 => {
                            want.push((i..i + n, etype, value));
                            i += n;
                        }
                        _ => i += 1,
                    }
                }
                let got: Vec<_> = got
                    .into_iter()
                    .map(|m| (m.tokens, m.etype, m.value))
                    .collect();
                assert_eq!(got, want, "{text:?}");
            }
        }
    }

    #[test]
    fn money_with_symbols_and_scales() {
        assert_eq!(
            one("a program of $500 million to", None),
            ("$500 million".into(), "MONEY", Some("500000000 USD".into()))
        );
        assert_eq!(
            one("profit of 5.93 mln dlrs in", None).2,
            Some("5930000 USD".into())
        );
        assert_eq!(
            one("It cost £3bn last", None),
            ("£3bn".into(), "MONEY", Some("3000000000 GBP".into()))
        );
        assert_eq!(
            one("about 20 billion yen", None).2,
            Some("20000000000 JPY".into())
        );
        assert_eq!(one("paid US$12.75 each", None).2, Some("12.75 USD".into()));
        assert_eq!(
            one("sold for 10 Canadian dollars", None).2,
            Some("10 CAD".into())
        );
        assert_eq!(one("only 50 cents", None).2, Some("0.5 USD".into()));
        assert_eq!(one("€1,250.50 fee", None).2, Some("1250.5 EUR".into()));
    }

    #[test]
    fn percents() {
        assert_eq!(
            one("rose 12.5 pct", None),
            ("12.5 pct".into(), "PERCENT", Some("12.5".into()))
        );
        assert_eq!(
            one("rose 12.5% in", None),
            ("12.5%".into(), "PERCENT", Some("12.5".into()))
        );
        assert_eq!(one("rose 12.5 percent", None).2, Some("12.5".into()));
        assert_eq!(one("rose 3 per cent", None).0, "3 per cent");
    }

    #[test]
    fn quantities() {
        assert_eq!(
            one("shipped 155,221 bags of coffee", None),
            ("155,221 bags".into(), "QUANTITY", Some("155221 bag".into()))
        );
        assert_eq!(one("seized 60 kilos of", None).2, Some("60 kg".into()));
        assert_eq!(one("some 10 km north", None).2, Some("10 km".into()));
        assert_eq!(
            one("pumps 1.2 million barrels per day", None).2,
            Some("1200000 bbl/d".into())
        );
    }

    #[test]
    fn plain_numbers_are_not_mentions() {
        assert!(run(
            "He counted 500 of them and 1,000 more; 12.5 is a number; 1987 votes.",
            Some("2015-09-28")
        )
        .is_empty());
        assert!(run("The 3bn figure and 5m people", None).is_empty());
        assert!(run("She may come in March? No: maybe.", None).len() == 1);
    }

    #[test]
    fn weekday_resolves_to_most_recent_on_or_before() {
        // 2015-09-28 was a Monday.
        assert_eq!(
            one("said on Sunday", Some("2015-09-28T10:00:00Z")),
            ("Sunday".into(), "DATE", Some("2015-09-27".into()))
        );
        assert_eq!(
            one("said on Monday", Some("2015-09-28")).2,
            Some("2015-09-28".into())
        );
        assert_eq!(
            one("meet next Sunday", Some("2015-09-27")).2,
            Some("2015-10-04".into())
        );
        assert_eq!(one("said on Sunday", None).2, None);
        assert_eq!(one("said on Sunday", Some("Sept 28")).2, None);
    }

    #[test]
    fn month_dates_and_years() {
        assert_eq!(
            one("on Feb 26 it", Some("1987-03-01")).2,
            Some("1987-02-26".into())
        );
        assert_eq!(
            one("on Feb. 26 it", Some("1987-06-01")).2,
            Some("1987-02-26".into())
        );
        assert_eq!(
            one("on Feb. 26 it", Some("1987-12-20")).2,
            Some("1988-02-26".into()),
            "closest year"
        );
        assert_eq!(
            one("on February 26, 1987 it", None),
            (
                "February 26, 1987".into(),
                "DATE",
                Some("1987-02-26".into())
            )
        );
        assert_eq!(one("in March 1987 it", None).2, Some("1987-03".into()));
        assert_eq!(
            one("since 1987 it", None),
            ("1987".into(), "DATE", Some("1987".into()))
        );
        assert_eq!(
            one("on 26 February 1987", None).2,
            Some("1987-02-26".into())
        );
        assert_eq!(one("in March , things", None).2, None);
        assert_eq!(
            one("in January , things", Some("1987-03-02")).2,
            Some("1987-01".into())
        );
        assert_eq!(
            one("in November , things", Some("1987-03-02")).2,
            Some("1986-11".into())
        );
        assert_eq!(
            one("until last March , things", Some("1987-03-02")).2,
            Some("1986-03".into())
        );
        assert_eq!(one("on 1996-08-22 it", None).2, Some("1996-08-22".into()));
    }

    #[test]
    fn relative_days() {
        assert_eq!(
            one("said yesterday", Some("2015-03-01")).2,
            Some("2015-02-28".into())
        );
        assert_eq!(
            one("Today it rains", Some("2015-03-01")).2,
            Some("2015-03-01".into())
        );
        assert_eq!(
            one("rose last year", Some("2015-03-01")).2,
            Some("2014".into())
        );
        assert_eq!(
            one("rose last month", Some("2015-01-10")).2,
            Some("2014-12".into())
        );
    }

    #[test]
    fn date_arithmetic_round_trips() {
        for days in [-800_000i64, -1, 0, 1, 365, 10_957, 16_705, 2_000_000] {
            assert_eq!(Date::from_days(days).days(), days);
        }
        assert_eq!(Date::new(2015, 9, 27).map(|d| d.weekday()), Some(6));
        assert_eq!(Date::new(2015, 2, 29), None);
        assert_eq!(scale_decimal("0.5", -2), "0.005");
        assert_eq!(scale_decimal("007", 0), "7");
    }

    #[test]
    fn odd_input_never_panics() {
        for s in [
            "",
            "$",
            "$ $ million",
            "12.",
            "1,00,000 dlrs",
            "£",
            "Feb",
            "٣٤ million dollars",
            "next",
        ] {
            let _ = run(s, Some("2015-09-28"));
        }
        assert!(run("1,00,000 dlrs", None).is_empty());
    }
}
