//! Pulling a file from a URL into a server's directory (Pterodactyl's "pull"). The
//! download streams into place within the quota and the upload limit, like any write.
//! Only public addresses are reached: every address a name resolves to — the first
//! request's and each redirect's — is checked by the resolver the connection uses, so
//! a pull cannot be pointed at the node's own network, not even by a DNS answer that
//! changes between a check and the connection.

use std::io::Read;
use std::net::IpAddr;
use std::time::Duration;

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use super::ServerFiles;
use crate::error::{Error, Result};

/// Redirects followed (each one's addresses checked again).
const MAX_REDIRECTS: u32 = 5;

/// Whether `address` is on the public internet: not loopback, private, link-local,
/// shared (CGNAT), documentation, multicast, unspecified or reserved.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
                || first == 0x0064 && v6.segments()[1] == 0xff9b)
        }
    }
}

/// The system's resolver, refusing names that lead anywhere but the public internet.
#[derive(Debug, Default)]
struct PublicOnly {
    inner: DefaultResolver,
}

impl Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> std::result::Result<ResolvedSocketAddrs, ureq::Error> {
        let addresses = self.inner.resolve(uri, config, timeout)?;
        if let Some(private) = addresses.iter().find(|address| !is_public(address.ip())) {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "{} is at {}, which is not a public address; wings pulls only from the internet",
                    uri.host().unwrap_or("the host"),
                    private.ip()
                ),
            )));
        }
        Ok(addresses)
    }
}

/// What a pull may reach and how much it may bring.
pub struct PullPolicy {
    pub private_networks: bool,
    pub max_bytes: u64,
}

impl ServerFiles {
    /// Downloads `url` into folder `root`, named `file_name`, else as the answer's
    /// `Content-Disposition` says (`use_header`), else after the URL's last segment.
    /// Returns the file's path. A failed or refused download leaves nothing behind.
    pub fn pull(
        &self,
        url: &str,
        root: &str,
        file_name: Option<&str>,
        use_header: bool,
        policy: &PullPolicy,
    ) -> Result<String> {
        let uri: ureq::http::Uri = url
            .parse()
            .map_err(|_| Error::BadRequest(format!("`{url}` is not a URL")))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(Error::BadRequest(format!(
                "`{url}` is not an http:// or https:// URL"
            )));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(MAX_REDIRECTS)
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_recv_body(Some(Duration::from_secs(3600)))
            .user_agent("Hatchery-wings (pull)")
            .build();
        let agent = match policy.private_networks {
            true => ureq::Agent::new_with_config(config),
            false => {
                ureq::Agent::with_parts(config, DefaultConnector::default(), PublicOnly::default())
            }
        };
        let mut response = agent.get(url).call().map_err(|err| match err {
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
                Error::Forbidden(io.to_string())
            }
            other => Error::BadRequest(format!("cannot download `{url}`: {other}")),
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::BadRequest(format!(
                "`{url}` answered {status}; nothing was downloaded"
            )));
        }
        let from_header = use_header
            .then(|| {
                response
                    .headers()
                    .get("content-disposition")
                    .and_then(|value| value.to_str().ok())
                    .and_then(disposition_name)
            })
            .flatten();
        let from_url = uri
            .path()
            .rsplit('/')
            .find(|segment| !segment.is_empty())
            .map(percent_decoded);
        let name = file_name
            .map(str::to_string)
            .or(from_header)
            .or(from_url)
            .unwrap_or_else(|| "download".into());
        let name = name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or_default()
            .to_string();
        if name.is_empty() || name == "." || name == ".." || name.contains('\0') {
            return Err(Error::BadRequest(format!(
                "`{name}` cannot be a file name; name the file"
            )));
        }
        let path = format!("{}/{name}", root.trim_end_matches('/'));
        let body = response
            .body_mut()
            .with_config()
            .limit(policy.max_bytes)
            .reader();
        self.write_from(&path, LimitReached { inner: body, url })?;
        Ok(path)
    }
}

/// Turns the body's "too big" into the words a user needs.
struct LimitReached<'a, R> {
    inner: R,
    url: &'a str,
}

impl<R: Read> Read for LimitReached<'_, R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buffer).map_err(|err| {
            std::io::Error::new(
                err.kind(),
                format!("downloading `{}` stopped: {err}", self.url),
            )
        })
    }
}

/// `attachment; filename="x.zip"` → `x.zip`.
fn disposition_name(value: &str) -> Option<String> {
    value.split(';').find_map(|part| {
        let (key, name) = part.trim().split_once('=')?;
        (key.eq_ignore_ascii_case("filename"))
            .then(|| name.trim().trim_matches('"').to_string())
            .filter(|name| !name.is_empty())
    })
}

fn percent_decoded(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = |at: usize| (bytes.get(at).copied()).and_then(|b| (b as char).to_digit(16));
        match (bytes[index], hex(index + 1), hex(index + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                index += 3;
            }
            (byte, ..) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "1.1.1.1",
            "93.184.216.34",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn names_come_from_the_header_or_the_url() {
        assert_eq!(
            disposition_name("attachment; filename=\"pack.zip\"").as_deref(),
            Some("pack.zip")
        );
        assert_eq!(disposition_name("inline").as_deref(), None);
        assert_eq!(percent_decoded("my%20mod.jar"), "my mod.jar");
    }
}
