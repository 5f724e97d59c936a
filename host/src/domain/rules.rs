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
}

impl Rules {
    /// Parses `a|b:1,2|regex:/x|y/` (a `|` inside a regex's delimiters stays in the
    /// regex). An unknown rule or a malformed parameter is an error naming it.
    pub fn parse(text: &str) -> Result<Rules, String> {
        let mut rules = Vec::new();
        for part in split_rules(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            rules.push(Rule::parse(part)?);
        }
        Ok(Rules { rules })
    }

    /// Rules from a list (Pelican writes them as an array).
    pub fn parse_list(parts: &[String]) -> Result<Rules, String> {
        let mut rules = Vec::new();
        for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
            rules.push(Rule::parse(part)?);
        }
        Ok(Rules { rules })
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
            };
            if let Some(problem) = problem {
                return Err(problem);
            }
        }
        Ok(())
    }
}

impl Rule {
    fn parse(text: &str) -> Result<Rule, String> {
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
        Ok(match name {
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
            "ip" | "ipv4" | "ipv6" => Rule::Ip,
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
            other => return Err(format!("`{other}` is not a validation rule Hatchery knows")),
        })
    }
}

/// Splits on `|`, except inside a `regex:`/`not_regex:` pattern's delimiters.
fn split_rules(text: &str) -> Vec<String> {
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
        Rules::parse(rules).unwrap().check("SERVER_NAME", value)
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
    fn bad_rules_are_refused_with_their_name() {
        assert!(
            Rules::parse("required|frobnicate")
                .unwrap_err()
                .contains("frobnicate")
        );
        assert!(
            Rules::parse("max")
                .unwrap_err()
                .contains("needs a parameter")
        );
        assert!(
            Rules::parse("between:1")
                .unwrap_err()
                .contains("two numbers")
        );
        assert!(Rules::parse("regex:/(/").unwrap_err().contains("not valid"));
    }
}
