//! Laravel-style validation rules, as eggs write them for their variables
//! (`required|string|max:20`, `nullable|in:a,b`, `regex:/^\w+$/`, …), and the check of
//! a server variable's value against them with a message a user can act on.
//!
//! Values are strings (they become environment variables); size rules (`min`, `max`,
//! `between`, `size`) measure the number when the rules make the value numeric
//! (`numeric`, `integer`) and the length in characters otherwise — as Laravel does.

use regex::Regex;

/// A parsed rule list.
#[derive(Debug, Clone)]
pub struct Rules {
    rules: Vec<Rule>,
    unchecked: Vec<String>,
}

#[derive(Debug, Clone)]
enum Rule {
    Required,
    Nullable,
    Sometimes,
    String,
    Integer,
    Numeric,
    Boolean,
    Alpha,
    AlphaNum,
    AlphaDash,
    Url,
    Ip,
    In(Vec<String>),
    NotIn(Vec<String>),
    Min(f64),
    Max(f64),
    Between(f64, f64),
    Size(f64),
    Gt(f64),
    Gte(f64),
    Lt(f64),
    Lte(f64),
    Digits(usize),
    DigitsBetween(usize, usize),
    Regex(Regex),
    NotRegex(Regex),
    Ipv4,
    Ipv6,
    StartsWith(Vec<String>),
    EndsWith(Vec<String>),
    DoesntStartWith(Vec<String>),
    DoesntEndWith(Vec<String>),
    Uuid,
    Ulid,
    Email,
    Json,
    Lowercase,
    Uppercase,
    Ascii,
    HexColor,
    MacAddress,
    Date,
    DateFormat(String),
    Accepted,
    Declined,
    Prohibited,
    MultipleOf(f64),
    Decimal(usize, usize),
}

/// Laravel rules that are valid but cannot be checked on a single environment value
/// (they compare with other fields, the database or uploaded files). They import
/// with a warning and are not checked.
const UNCHECKABLE_RULES: &[&str] = &[
    "after",
    "after_or_equal",
    "array",
    "before",
    "before_or_equal",
    "confirmed",
    "current_password",
    "date_equals",
    "different",
    "dimensions",
    "distinct",
    "enum",
    "exists",
    "file",
    "image",
    "list",
    "mimes",
    "mimetypes",
    "missing",
    "missing_if",
    "missing_unless",
    "missing_with",
    "missing_with_all",
    "prohibited_if",
    "prohibited_unless",
    "prohibits",
    "required_array_keys",
    "required_if",
    "required_if_accepted",
    "required_if_declined",
    "required_unless",
    "required_with",
    "required_with_all",
    "required_without",
    "required_without_all",
    "same",
    "timezone",
    "unique",
    "accepted_if",
    "declined_if",
    "extensions",
    "in_array",
    "contains",
];

impl Rules {
    /// Parses `a|b:1,2|regex:/x|y/` (a `|` inside a regex's delimiters stays in the
    /// regex). Pterodactyl and Pelican accept any rule text on import, so this does
    /// too: a rule Hatchery cannot check is kept out of the checks and listed by
    /// [`Rules::unchecked`], naming it and why.
    pub fn parse(text: &str) -> Rules {
        let mut rules = Vec::new();
        let mut unchecked = Vec::new();
        for part in split_rules(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            match Rule::parse(part) {
                Ok(Some(rule)) => rules.push(rule),
                Ok(None) => {}
                Err(reason) => unchecked.push(reason),
            }
        }
        Rules { rules, unchecked }
    }

    /// The rules that are not checked, each with the reason.
    pub fn unchecked(&self) -> &[String] {
        &self.unchecked
    }

    pub fn is_required(&self) -> bool {
        self.rules.iter().any(|r| matches!(r, Rule::Required))
    }

    fn numeric(&self) -> bool {
        self.rules
            .iter()
            .any(|r| matches!(r, Rule::Integer | Rule::Numeric))
    }

    /// Checks `value` for the variable named `name`; the error says what is wrong.
    pub fn check(&self, name: &str, value: &str) -> Result<(), String> {
        if value.is_empty() {
            if self.is_required() {
                return Err(format!("{name} is required"));
            }
            // Empty and not required: Laravel skips the other rules.
            return Ok(());
        }
        let numeric = self.numeric();
        let measure = |value: &str| -> f64 {
            if numeric {
                value.trim().parse::<f64>().unwrap_or(f64::NAN)
            } else {
                value.chars().count() as f64
            }
        };
        let unit = if numeric { "" } else { " characters" };
        for rule in &self.rules {
            let problem = match rule {
                Rule::Required | Rule::Nullable | Rule::Sometimes | Rule::String => None,
                Rule::Integer => (value.trim().parse::<i64>().is_err())
                    .then(|| format!("{name} must be a whole number")),
                Rule::Numeric => (value.trim().parse::<f64>().map_or(true, |n| !n.is_finite()))
                    .then(|| format!("{name} must be a number")),
                Rule::Boolean => (!matches!(value, "1" | "0" | "true" | "false"))
                    .then(|| format!("{name} must be true or false (1 or 0)")),
                Rule::Alpha => (!value.chars().all(char::is_alphabetic))
                    .then(|| format!("{name} may only contain letters")),
                Rule::AlphaNum => (!value.chars().all(char::is_alphanumeric))
                    .then(|| format!("{name} may only contain letters and digits")),
                Rule::AlphaDash => (!value
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_'))
                .then(|| {
                    format!("{name} may only contain letters, digits, dashes and underscores")
                }),
                Rule::Url => (!looks_like_url(value)).then(|| format!("{name} must be a URL")),
                Rule::Ip => (value.parse::<std::net::IpAddr>().is_err())
                    .then(|| format!("{name} must be an IP address")),
                Rule::In(allowed) => (!allowed.iter().any(|a| a == value))
                    .then(|| format!("{name} must be one of: {}", allowed.join(", "))),
                Rule::NotIn(denied) => denied
                    .iter()
                    .any(|d| d == value)
                    .then(|| format!("{name} may not be {value}")),
                Rule::Min(min) => (measure(value) < *min || measure(value).is_nan())
                    .then(|| format!("{name} must be at least {}{unit}", number(*min))),
                Rule::Max(max) => (measure(value) > *max || measure(value).is_nan())
                    .then(|| format!("{name} may not be greater than {}{unit}", number(*max))),
                Rule::Between(low, high) => {
                    let size = measure(value);
                    (size < *low || size > *high || size.is_nan()).then(|| {
                        format!(
                            "{name} must be between {} and {}{unit}",
                            number(*low),
                            number(*high)
                        )
                    })
                }
                Rule::Size(size) => (measure(value) != *size)
                    .then(|| format!("{name} must be {}{unit}", number(*size))),
                Rule::Gt(limit) => (measure(value).partial_cmp(limit)
                    != Some(std::cmp::Ordering::Greater))
                .then(|| format!("{name} must be greater than {}{unit}", number(*limit))),
                Rule::Gte(limit) => (measure(value) < *limit || measure(value).is_nan())
                    .then(|| format!("{name} must be at least {}{unit}", number(*limit))),
                Rule::Lt(limit) => (measure(value).partial_cmp(limit)
                    != Some(std::cmp::Ordering::Less))
                .then(|| format!("{name} must be less than {}{unit}", number(*limit))),
                Rule::Lte(limit) => (measure(value) > *limit || measure(value).is_nan())
                    .then(|| format!("{name} may not be greater than {}{unit}", number(*limit))),
                Rule::Digits(count) => (!(value.chars().all(|c| c.is_ascii_digit())
                    && value.len() == *count))
                    .then(|| format!("{name} must be {count} digits")),
                Rule::DigitsBetween(low, high) => (!(value.chars().all(|c| c.is_ascii_digit())
                    && (*low..=*high).contains(&value.len())))
                .then(|| format!("{name} must be between {low} and {high} digits")),
                Rule::Regex(pattern) => (!pattern.is_match(value)).then(|| {
                    format!(
                        "{name} does not have the expected format ({})",
                        pattern.as_str()
                    )
                }),
                Rule::NotRegex(pattern) => pattern.is_match(value).then(|| {
                    format!(
                        "{name} has a format that is not allowed ({})",
                        pattern.as_str()
                    )
                }),
                Rule::Ipv4 => (value.parse::<std::net::Ipv4Addr>().is_err())
                    .then(|| format!("{name} must be an IPv4 address")),
                Rule::Ipv6 => (value.parse::<std::net::Ipv6Addr>().is_err())
                    .then(|| format!("{name} must be an IPv6 address")),
                Rule::StartsWith(prefixes) => {
                    (!prefixes.iter().any(|p| value.starts_with(p.as_str())))
                        .then(|| format!("{name} must start with one of: {}", prefixes.join(", ")))
                }
                Rule::EndsWith(suffixes) => (!suffixes.iter().any(|p| value.ends_with(p.as_str())))
                    .then(|| format!("{name} must end with one of: {}", suffixes.join(", "))),
                Rule::DoesntStartWith(prefixes) => prefixes
                    .iter()
                    .any(|p| value.starts_with(p.as_str()))
                    .then(|| format!("{name} may not start with: {}", prefixes.join(", "))),
                Rule::DoesntEndWith(suffixes) => suffixes
                    .iter()
                    .any(|p| value.ends_with(p.as_str()))
                    .then(|| format!("{name} may not end with: {}", suffixes.join(", "))),
                Rule::Uuid => (!is_uuid(value)).then(|| format!("{name} must be a UUID")),
                Rule::Ulid => (!is_ulid(value)).then(|| format!("{name} must be a ULID")),
                Rule::Email => {
                    (!is_email(value)).then(|| format!("{name} must be an email address"))
                }
                Rule::Json => (serde_json::from_str::<serde_json::Value>(value).is_err())
                    .then(|| format!("{name} must be valid JSON")),
                Rule::Lowercase => {
                    (value.to_lowercase() != value).then(|| format!("{name} must be lowercase"))
                }
                Rule::Uppercase => {
                    (value.to_uppercase() != value).then(|| format!("{name} must be uppercase"))
                }
                Rule::Ascii => {
                    (!value.is_ascii()).then(|| format!("{name} may only contain ASCII characters"))
                }
                Rule::HexColor => (!is_hex_color(value))
                    .then(|| format!("{name} must be a hexadecimal colour like #a1b2c3")),
                Rule::MacAddress => {
                    (!is_mac_address(value)).then(|| format!("{name} must be a MAC address"))
                }
                Rule::Date => (!is_date(value)).then(|| format!("{name} must be a date")),
                Rule::DateFormat(format) => (!matches_php_date_format(value, format))
                    .then(|| format!("{name} must be a date in the format {format}")),
                Rule::Accepted => (!["yes", "on", "1", "true"].contains(&value))
                    .then(|| format!("{name} must be accepted (yes, on, 1 or true)")),
                Rule::Declined => (!["no", "off", "0", "false"].contains(&value))
                    .then(|| format!("{name} must be declined (no, off, 0 or false)")),
                Rule::Prohibited => Some(format!("{name} must be left empty")),
                Rule::MultipleOf(step) => {
                    let ratio = value.trim().parse::<f64>().unwrap_or(f64::NAN) / step;
                    (!(ratio.is_finite() && (ratio - ratio.round()).abs() < 1e-9))
                        .then(|| format!("{name} must be a multiple of {}", number(*step)))
                }
                Rule::Decimal(low, high) => {
                    let places = decimal_places(value);
                    (!places.is_some_and(|places| (*low..=*high).contains(&places))).then(|| {
                        if low == high {
                            format!("{name} must have {low} decimal places")
                        } else {
                            format!("{name} must have {low} to {high} decimal places")
                        }
                    })
                }
            };
            if let Some(problem) = problem {
                return Err(problem);
            }
        }
        Ok(())
    }
}

impl Rule {
    /// A rule, `None` for rules that only steer Laravel's validator (`bail`,
    /// `exclude…`), or why it cannot be checked.
    fn parse(text: &str) -> Result<Option<Rule>, String> {
        let (name, parameter) = match text.split_once(':') {
            Some((name, parameter)) => (name.trim(), Some(parameter)),
            None => (text.trim(), None),
        };
        let need = || {
            parameter
                .ok_or_else(|| format!("the rule `{name}` needs a parameter, like `{name}:10`"))
        };
        let number = |text: &str| {
            text.trim()
                .parse::<f64>()
                .map_err(|_| format!("`{text}` in the rule `{name}` is not a number"))
        };
        let pair = || -> Result<(f64, f64), String> {
            let (low, high) = need()?.split_once(',').ok_or_else(|| {
                format!("the rule `{name}` needs two numbers, like `{name}:1,10`")
            })?;
            Ok((number(low)?, number(high)?))
        };
        let list = || -> Result<Vec<String>, String> {
            Ok(need()?.split(',').map(|v| v.trim().to_string()).collect())
        };
        let rule = match name {
            "bail" | "exclude" | "exclude_if" | "exclude_unless" | "exclude_with"
            | "exclude_without" => return Ok(None),
            name if UNCHECKABLE_RULES.contains(&name) => {
                return Err(format!(
                    "the rule `{name}` compares with other fields or data and is not checked"
                ));
            }
            "required" => Rule::Required,
            "nullable" => Rule::Nullable,
            "sometimes" | "present" | "filled" => Rule::Sometimes,
            "string" => Rule::String,
            // `int` is not a Laravel rule, but community eggs use it to mean `integer`.
            "integer" | "int" => Rule::Integer,
            "numeric" => Rule::Numeric,
            "boolean" | "bool" => Rule::Boolean,
            "alpha" => Rule::Alpha,
            "alpha_num" => Rule::AlphaNum,
            "alpha_dash" => Rule::AlphaDash,
            "url" | "active_url" => Rule::Url,
            "ip" => Rule::Ip,
            "ipv4" => Rule::Ipv4,
            "ipv6" => Rule::Ipv6,
            "starts_with" => Rule::StartsWith(list()?),
            "ends_with" => Rule::EndsWith(list()?),
            "doesnt_start_with" => Rule::DoesntStartWith(list()?),
            "doesnt_end_with" => Rule::DoesntEndWith(list()?),
            "uuid" => Rule::Uuid,
            "ulid" => Rule::Ulid,
            "email" => Rule::Email,
            "json" => Rule::Json,
            "lowercase" => Rule::Lowercase,
            "uppercase" => Rule::Uppercase,
            "ascii" => Rule::Ascii,
            "hex_color" => Rule::HexColor,
            "mac_address" => Rule::MacAddress,
            "date" => Rule::Date,
            // The format may itself contain `:` and `,`: everything after the first `:`.
            "date_format" => Rule::DateFormat(need()?.to_string()),
            "accepted" => Rule::Accepted,
            "declined" => Rule::Declined,
            "prohibited" => Rule::Prohibited,
            "multiple_of" => {
                let step = number(need()?)?;
                if step == 0.0 {
                    return Err("the rule `multiple_of:0` can never pass and is not checked".into());
                }
                Rule::MultipleOf(step)
            }
            "decimal" => {
                let parameter = need()?;
                let (low, high) = match parameter.split_once(',') {
                    Some((low, high)) => (number(low)?, number(high)?),
                    None => (number(parameter)?, number(parameter)?),
                };
                Rule::Decimal(low as usize, high as usize)
            }
            "in" => Rule::In(list()?),
            "not_in" => Rule::NotIn(list()?),
            "min" => Rule::Min(number(need()?)?),
            "max" => Rule::Max(number(need()?)?),
            "size" => Rule::Size(number(need()?)?),
            "gt" => Rule::Gt(number(need()?)?),
            "gte" => Rule::Gte(number(need()?)?),
            "lt" => Rule::Lt(number(need()?)?),
            "lte" => Rule::Lte(number(need()?)?),
            "between" => {
                let (low, high) = pair()?;
                Rule::Between(low, high)
            }
            "digits" => Rule::Digits(number(need()?)? as usize),
            "digits_between" => {
                let (low, high) = pair()?;
                Rule::DigitsBetween(low as usize, high as usize)
            }
            "regex" => Rule::Regex(php_regex(need()?)?),
            "not_regex" => Rule::NotRegex(php_regex(need()?)?),
            other => {
                return Err(format!(
                    "`{other}` is not a validation rule Hatchery knows; it is not checked"
                ));
            }
        };
        Ok(Some(rule))
    }
}

/// Splits on `|`, except inside a `regex:`/`not_regex:` pattern's delimiters (so
/// Pelican's list form keeps `regex:/^(a|b)$/` whole).
pub fn split_rules(text: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut open_regex: Option<char> = None;
    for piece in text.split('|') {
        match (open_regex, parts.last_mut()) {
            (Some(delimiter), Some(last)) => {
                last.push('|');
                last.push_str(piece);
                if regex_closed(last, delimiter) {
                    open_regex = None;
                }
            }
            _ => {
                let pattern = piece
                    .strip_prefix("regex:")
                    .or_else(|| piece.strip_prefix("not_regex:"));
                if let Some(delimiter) = pattern.and_then(|p| p.chars().next())
                    && !regex_closed(piece, delimiter)
                {
                    open_regex = Some(delimiter);
                }
                parts.push(piece.to_string());
            }
        }
    }
    parts
}

/// Whether a `regex:` rule's text ends with its closing delimiter (and flags).
fn regex_closed(rule: &str, delimiter: char) -> bool {
    let pattern = rule.split_once(':').map_or("", |(_, p)| p);
    let body = &pattern[delimiter.len_utf8().min(pattern.len())..];
    let trimmed = body.trim_end_matches(|c: char| "imsxuUAD".contains(c));
    trimmed.ends_with(delimiter) && !trimmed.ends_with(&format!("\\{delimiter}"))
}

/// A PHP (PCRE) pattern with delimiters and flags, as a Rust regex.
fn php_regex(text: &str) -> Result<Regex, String> {
    let text = text.trim();
    let delimiter = text
        .chars()
        .next()
        .ok_or_else(|| "the regex rule is empty".to_string())?;
    let closing = match delimiter {
        '(' => ')',
        '{' => '}',
        '[' => ']',
        '<' => '>',
        other => other,
    };
    let end = text
        .rfind(closing)
        .filter(|end| *end > 0)
        .ok_or_else(|| format!("the regex `{text}` has no closing `{closing}`"))?;
    let pattern = &text[delimiter.len_utf8()..end];
    let mut flags = String::new();
    for flag in text[end + closing.len_utf8()..].chars() {
        match flag {
            'i' | 'm' | 's' | 'x' | 'U' => flags.push(flag),
            'u' | 'D' => {}
            other => {
                return Err(format!(
                    "the regex flag `{other}` in `{text}` is not supported"
                ));
            }
        }
    }
    let pattern = pattern.replace(&format!("\\{delimiter}"), &delimiter.to_string());
    let full = if flags.is_empty() {
        pattern
    } else {
        format!("(?{flags}){pattern}")
    };
    Regex::new(&full).map_err(|err| format!("the regex `{text}` is not valid: {err}"))
}

fn looks_like_url(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once("://") else {
        return false;
    };
    !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        && !rest.is_empty()
        && !rest.contains(char::is_whitespace)
}

fn is_uuid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_ulid(value: &str) -> bool {
    const CROCKFORD: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    value.len() == 26
        && value.starts_with(|c: char| ('0'..='7').contains(&c))
        && value
            .chars()
            .all(|c| CROCKFORD.contains(c.to_ascii_uppercase()))
}

fn is_email(value: &str) -> bool {
    match value.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

fn is_hex_color(value: &str) -> bool {
    value.strip_prefix('#').is_some_and(|hex| {
        [3, 4, 6, 8].contains(&hex.len()) && hex.chars().all(|c| c.is_ascii_hexdigit())
    })
}

/// `01:23:45:67:89:ab`, `01-23-45-67-89-ab` or `0123.4567.89ab`, as PHP accepts.
fn is_mac_address(value: &str) -> bool {
    let hex_groups = |separator: char, count: usize, width: usize| {
        let groups: Vec<&str> = value.split(separator).collect();
        groups.len() == count
            && groups
                .iter()
                .all(|g| g.len() == width && g.chars().all(|c| c.is_ascii_hexdigit()))
    };
    hex_groups(':', 6, 2) || hex_groups('-', 6, 2) || hex_groups('.', 3, 4)
}

/// What PHP's `strtotime` reads in practice: ISO dates with an optional time.
fn is_date(value: &str) -> bool {
    let value = value.trim();
    chrono::DateTime::parse_from_rfc3339(value).is_ok()
        || chrono::DateTime::parse_from_rfc2822(value).is_ok()
        || ["%Y-%m-%d", "%Y/%m/%d", "%d-%m-%Y", "%m/%d/%Y"]
            .iter()
            .any(|format| chrono::NaiveDate::parse_from_str(value, format).is_ok())
        || ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .any(|format| chrono::NaiveDateTime::parse_from_str(value, format).is_ok())
}

/// Whether `value` reads exactly with PHP's `date()` format `format`.
fn matches_php_date_format(value: &str, format: &str) -> bool {
    let mut strftime = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        let piece = match c {
            'd' => "%d",
            'j' => "%e",
            'D' => "%a",
            'l' => "%A",
            'm' | 'n' => "%m",
            'M' => "%b",
            'F' => "%B",
            'Y' => "%Y",
            'y' => "%y",
            'H' | 'G' => "%H",
            'h' | 'g' => "%I",
            'i' => "%M",
            's' => "%S",
            'A' | 'a' => "%p",
            'U' => "%s",
            'P' => "%:z",
            'O' => "%z",
            '\\' => {
                if let Some(literal) = chars.next() {
                    push_literal(&mut strftime, literal);
                }
                continue;
            }
            other => {
                push_literal(&mut strftime, other);
                continue;
            }
        };
        strftime.push_str(piece);
    }
    let mut parsed = chrono::format::Parsed::new();
    chrono::format::parse(
        &mut parsed,
        value.trim(),
        chrono::format::StrftimeItems::new(&strftime),
    )
    .is_ok()
}

fn push_literal(strftime: &mut String, literal: char) {
    if literal == '%' {
        strftime.push_str("%%");
    } else {
        strftime.push(literal);
    }
}

/// Digits after the decimal point of a number, `None` if it is not one.
fn decimal_places(value: &str) -> Option<usize> {
    let value = value.trim();
    value.parse::<f64>().ok().filter(|n| n.is_finite())?;
    Some(
        value
            .split_once('.')
            .map_or(0, |(_, fraction)| fraction.len()),
    )
}

fn number(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::Rules;

    fn check(rules: &str, value: &str) -> Result<(), String> {
        Rules::parse(rules).check("SERVER_NAME", value)
    }

    #[test]
    fn strings_are_measured_in_characters_and_numbers_by_value() {
        assert!(check("required|string|max:5", "abcde").is_ok());
        assert_eq!(
            check("required|string|max:5", "abcdef").unwrap_err(),
            "SERVER_NAME may not be greater than 5 characters"
        );
        assert!(check("required|integer|between:1,100", "100").is_ok());
        assert_eq!(
            check("required|integer|between:1,100", "101").unwrap_err(),
            "SERVER_NAME must be between 1 and 100"
        );
        assert_eq!(
            check("required|integer", "1.5").unwrap_err(),
            "SERVER_NAME must be a whole number"
        );
        assert!(check("required|numeric|min:0.5", "0.75").is_ok());
    }

    #[test]
    fn required_nullable_in_and_boolean() {
        assert_eq!(
            check("required|string", "").unwrap_err(),
            "SERVER_NAME is required"
        );
        assert!(check("nullable|string|max:2", "").is_ok());
        assert!(check("required|in:vanilla,forge", "forge").is_ok());
        assert_eq!(
            check("required|in:vanilla,forge", "fabric").unwrap_err(),
            "SERVER_NAME must be one of: vanilla, forge"
        );
        assert!(check("required|boolean", "1").is_ok());
        assert!(check("required|boolean", "yes").is_err());
    }

    #[test]
    fn regexes_keep_their_bars_and_flags() {
        let rules = r"required|regex:/^(true|false)$/i|max:5";
        assert!(check(rules, "TRUE").is_ok());
        assert!(check(rules, "maybe").is_err());
        assert!(check(r"required|regex:/^([\w\d._-]+)(\.jar)$/", "server.jar").is_ok());
        assert!(check(r"required|regex:/^([\w\d._-]+)(\.jar)$/", "server.zip").is_err());
        assert!(check(r"nullable|alpha_dash|between:1,100", "my-server_1").is_ok());
        assert!(check(r"nullable|alpha_dash", "my server").is_err());
    }

    #[test]
    fn rules_that_cannot_be_checked_are_named_not_fatal() {
        let unchecked = |text: &str| Rules::parse(text).unchecked().join("; ");
        assert!(unchecked("required|frobnicate").contains("frobnicate"));
        assert!(unchecked("max").contains("needs a parameter"));
        assert!(unchecked("between:1").contains("two numbers"));
        assert!(unchecked("regex:/(/").contains("not valid"));
        assert!(unchecked("required|confirmed").contains("confirmed"));
        assert!(unchecked("required|timezone").contains("timezone"));
        assert_eq!(unchecked("bail|required|string|max:20"), "");
        // The rules that could be read still apply.
        assert!(check("required|frobnicate|max:3", "abcd").is_err());
        assert!(check("required|frobnicate|max:3", "abc").is_ok());
    }

    #[test]
    fn string_and_format_rules() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            (
                "starts_with:paper,purpur",
                &["paper-1.20", "purpur"],
                &["spigot"],
            ),
            (
                "ends_with:.jar,.zip",
                &["server.jar", "a.zip"],
                &["server.exe"],
            ),
            ("doesnt_start_with:-", &["a-b"], &["-Xmx"]),
            ("doesnt_end_with:/", &["a/b"], &["a/"]),
            (
                "uuid",
                &["123e4567-e89b-12d3-a456-426614174000"],
                &["123e4567", "x23e4567-e89b-12d3-a456-426614174000"],
            ),
            (
                "ulid",
                &["01ARZ3NDEKTSV4RRFFQ69G5FAV"],
                &["81ARZ3NDEKTSV4RRFFQ69G5FAV", "01ARZ3"],
            ),
            (
                "email",
                &["ops@example.com", "root@localhost"],
                &["nope", "a b@example.com", "a@"],
            ),
            ("json", &[r#"{"a":1}"#, "[1,2]", "3"], &["{a:1}"]),
            ("lowercase", &["abc-1"], &["Abc"]),
            ("uppercase", &["ABC-1"], &["ABc"]),
            ("ascii", &["plain"], &["naïve"]),
            (
                "hex_color",
                &["#fff", "#A1B2C3", "#a1b2c3d4"],
                &["fff", "#ggg", "#abcde"],
            ),
            (
                "mac_address",
                &["01:23:45:67:89:ab", "01-23-45-67-89-AB", "0123.4567.89ab"],
                &["01:23:45:67:89"],
            ),
            (
                "date",
                &["2024-02-29", "2024-01-01 10:00:00", "2024-01-01T10:00:00Z"],
                &["yesterday-ish", "2023-02-29"],
            ),
            (
                "date_format:Y-m-d H:i",
                &["2024-05-01 13:45"],
                &["2024-05-01", "01/05/2024 13:45"],
            ),
            ("accepted", &["yes", "on", "1", "true"], &["no", "sure"]),
            ("declined", &["no", "off", "0", "false"], &["yes"]),
            ("multiple_of:5", &["10", "0", "-15"], &["12", "x"]),
            ("numeric|multiple_of:0.5", &["1.5"], &["1.25"]),
            ("decimal:2", &["1.50", "0.00"], &["1.5", "abc"]),
            ("decimal:0,2", &["1", "1.5", "1.25"], &["1.255"]),
            ("ipv4", &["10.0.0.1"], &["::1", "10.0.0"]),
            ("ipv6", &["::1"], &["10.0.0.1"]),
        ];
        for (rules, good, bad) in cases {
            let parsed = Rules::parse(rules);
            assert!(
                parsed.unchecked().is_empty(),
                "{rules}: {:?}",
                parsed.unchecked()
            );
            for value in *good {
                assert!(
                    parsed.check("V", value).is_ok(),
                    "{rules} should accept {value}: {:?}",
                    parsed.check("V", value)
                );
            }
            for value in *bad {
                assert!(
                    parsed.check("V", value).is_err(),
                    "{rules} should refuse {value}"
                );
            }
        }
        assert_eq!(
            check("prohibited", "x").unwrap_err(),
            "SERVER_NAME must be left empty"
        );
        assert!(check("prohibited", "").is_ok());
        assert_eq!(
            check("starts_with:paper", "vanilla").unwrap_err(),
            "SERVER_NAME must start with one of: paper"
        );
    }
}
