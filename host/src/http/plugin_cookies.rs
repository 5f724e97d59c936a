//! Cookies of sign-in plugins (contract 1.1): a sign-in route may keep a little state
//! in the browser — an OAuth flow bound to the browser that started it — without ever
//! seeing the panel's session cookie or another plugin's cookies.
//!
//! A plugin answers `set-cookie: name=value; Max-Age=600`; the browser gets
//! `hp.<plugin>.name`, HttpOnly, SameSite=Lax (it must come back on the identity
//! provider's redirect), on `/api/auth/` only, Secure under TLS. On its sign-in routes
//! the plugin receives its own cookies, under their short names, and no others.

use axum::http::HeaderMap;

/// Longest cookie value a plugin may set.
const MAX_VALUE_BYTES: usize = 1024;
/// Longest life a plugin's cookie may have: sign-in flows are short.
const MAX_AGE_SECONDS: u64 = 24 * 60 * 60;

fn prefix(plugin: &str) -> String {
    format!("hp.{plugin}.")
}

fn is_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_value(value: &str) -> bool {
    value.len() <= MAX_VALUE_BYTES
        && value
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '"' | '\\'))
}

/// The `Set-Cookie` the browser gets for a plugin's `name=value; Max-Age=N`; `None` when
/// it is malformed. Only the name, the value and Max-Age are taken from the plugin.
pub fn set_cookie(plugin: &str, wanted: &str, secure: bool) -> Option<String> {
    let mut parts = wanted.split(';').map(str::trim);
    let (name, value) = parts.next()?.split_once('=')?;
    if !is_name(name) || !is_value(value) {
        return None;
    }
    let max_age = parts
        .filter_map(|part| part.split_once('='))
        .find(|(key, _)| key.eq_ignore_ascii_case("max-age"))
        .map(|(_, seconds)| seconds.parse::<u64>().ok())
        .unwrap_or(Some(MAX_AGE_SECONDS))?
        .min(MAX_AGE_SECONDS);
    let secure = if secure { "; Secure" } else { "" };
    Some(format!(
        "{}{name}={value}; Path=/api/auth/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        prefix(plugin)
    ))
}

/// The plugin's own cookies from a request, as a `cookie` header with short names.
pub fn own_cookies(plugin: &str, headers: &HeaderMap) -> Option<String> {
    let prefix = prefix(plugin);
    let own: Vec<&str> = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(prefix.as_str()))
        .collect();
    match own.is_empty() {
        true => None,
        false => Some(own.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugin_names_only_its_own_short_lived_cookies() {
        assert_eq!(
            set_cookie("core-auth", "flow=abc; Max-Age=600", true).unwrap(),
            "hp.core-auth.flow=abc; Path=/api/auth/; HttpOnly; SameSite=Lax; Max-Age=600; Secure"
        );
        // Whatever else it asks for is ignored; lives are capped.
        let cookie = set_cookie("p", "a=b; Domain=evil.net; Path=/; Max-Age=99999999", false);
        assert_eq!(
            cookie.unwrap(),
            "hp.p.a=b; Path=/api/auth/; HttpOnly; SameSite=Lax; Max-Age=86400"
        );
        // The panel's session cookie cannot be overwritten: every name is the plugin's.
        let cookie = set_cookie("p", "hatchery_session=x", false).unwrap();
        assert!(cookie.starts_with("hp.p.hatchery_session=x;"), "{cookie}");
        for hostile in ["a b=c", "=v", "a=x\r\nb", "a=\"q\"", "a=1; Max-Age=soon"] {
            assert_eq!(set_cookie("p", hostile, false), None, "{hostile}");
        }
    }

    #[test]
    fn a_plugin_reads_only_its_own_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            "hatchery_session=secret; hp.other.flow=x; hp.p.flow=mine; hp.p.n=2"
                .parse()
                .unwrap(),
        );
        assert_eq!(own_cookies("p", &headers).unwrap(), "flow=mine; n=2");
        assert_eq!(own_cookies("none", &headers), None);
    }
}
