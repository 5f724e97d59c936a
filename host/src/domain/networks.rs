//! Addresses and networks an API key may be used from (`203.0.113.7`,
//! `203.0.113.0/24`, `2001:db8::/32`).

use std::net::IpAddr;

/// One allowed address or network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    address: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    /// Reads `address` or `address/prefix`; the message says what is wrong.
    pub fn parse(text: &str) -> Result<IpNetwork, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or network"))?;
        let longest = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => longest,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= longest)
                .ok_or_else(|| format!("`{text}`: a prefix is 0 to {longest}"))?,
        };
        Ok(IpNetwork { address, prefix })
    }

    pub fn contains(&self, candidate: IpAddr) -> bool {
        // An IPv4 client reached over IPv6 (`::ffff:a.b.c.d`) is that IPv4 client.
        let candidate = match candidate {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(candidate, IpAddr::V4),
            v4 => v4,
        };
        match (self.address, candidate) {
            (IpAddr::V4(network), IpAddr::V4(candidate)) => {
                same_prefix(&network.octets(), &candidate.octets(), self.prefix)
            }
            (IpAddr::V6(network), IpAddr::V6(candidate)) => {
                same_prefix(&network.octets(), &candidate.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let longest = if self.address.is_ipv4() { 32 } else { 128 };
        match self.prefix == longest {
            true => write!(f, "{}", self.address),
            false => write!(f, "{}/{}", self.address, self.prefix),
        }
    }
}

fn same_prefix(network: &[u8], candidate: &[u8], prefix: u8) -> bool {
    let whole = usize::from(prefix / 8);
    let rest = prefix % 8;
    if network[..whole] != candidate[..whole] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    network[whole] & mask == candidate[whole] & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn addresses_and_networks_match_what_they_cover() {
        let one = IpNetwork::parse("203.0.113.7").unwrap();
        assert!(one.contains(ip("203.0.113.7")));
        assert!(!one.contains(ip("203.0.113.8")));
        assert!(one.contains(ip("::ffff:203.0.113.7")));
        let net = IpNetwork::parse("10.1.0.0/20").unwrap();
        assert!(net.contains(ip("10.1.15.255")));
        assert!(!net.contains(ip("10.1.16.0")));
        let v6 = IpNetwork::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.1.0.1")));
        assert!(
            IpNetwork::parse("0.0.0.0/0")
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
        assert_eq!(net.to_string(), "10.1.0.0/20");
        assert_eq!(one.to_string(), "203.0.113.7");
    }

    #[test]
    fn nonsense_is_refused_with_a_reason() {
        for bad in [
            "",
            "10.0.0",
            "10.0.0.0/33",
            "::/129",
            "host.example",
            "1.2.3.4/x",
        ] {
            assert!(IpNetwork::parse(bad).is_err(), "{bad:?}");
        }
    }
}
