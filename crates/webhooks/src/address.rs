//! The SSRF guard: which addresses a webhook may reach, and which URLs a webhook may have.
//!
//! [`classify`] names the reason an address is not public: loopback, private (RFC 1918,
//! unique-local `fc00::/7`), link-local (`169.254/16` with the cloud metadata address,
//! `fe80::/10`), unspecified, CGNAT (`100.64/10`), broadcast, multicast, documentation and other
//! reserved ranges, checked on the IPv4 address inside IPv4-mapped and IPv4-compatible IPv6
//! addresses too. The delivery client runs it on every address a host resolves to, inside its
//! resolver, and connects only to the addresses it let through; [`check_url`] refuses a URL
//! whose host is such an address written literally (in any spelling the URL parser accepts:
//! `2130706433`, `0x7f.1`, `0177.0.0.1` are all `127.0.0.1`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// The longest URL a webhook may have (spec §11.1).
pub const MAX_URL_LEN: usize = 2048;

/// Why an address is not a public one, or `None` when it is.
pub fn classify(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address (cloud metadata)")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (CGNAT) address")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("a broadcast, multicast or reserved address")
    } else if (a == 192 && b == 0 && c == 0) || (a == 198 && (18..20).contains(&b)) || ip.is_documentation() {
        Some("a reserved address")
    } else {
        None
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    let first = segments.first().copied().unwrap_or(0);
    if ip.is_unspecified() {
        Some("an unspecified address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if let Some(v4) = embedded_v4(ip) {
        classify_v4(v4)
    } else if first & 0xfe00 == 0xfc00 {
        Some("a private (unique-local) address")
    } else if first & 0xffc0 == 0xfe80 || first & 0xffc0 == 0xfec0 {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if first == 0x2001 && segments.get(1) == Some(&0x0db8) {
        Some("a reserved address")
    } else {
        None
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`),
/// NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:AABB:CCDD::`) IPv6 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] => Some(tail(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(tail(hi, lo)),
        [0x2002, hi, lo, ..] => Some(tail(hi, lo)),
        _ => None,
    }
}

/// Checks a webhook URL: at most [`MAX_URL_LEN`] characters, `http` or `https`, a host, no
/// user name or password, and (unless `allow_private`) no host that is a non-public address
/// written literally. Host names are checked when delivering, on every address they resolve to.
pub fn check_url(text: &str, allow_private: bool) -> Result<Url, String> {
    if text.len() > MAX_URL_LEN {
        return Err(format!("The webhook URL is longer than {MAX_URL_LEN} characters."));
    }
    let url = Url::parse(text).map_err(|e| format!("The webhook URL is not a valid URL ({e})."))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("The webhook URL must use http or https.".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("The webhook URL must not carry credentials.".to_owned());
    }
    let literal = match url.host() {
        None => return Err("The webhook URL has no host.".to_owned()),
        Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            (name == "localhost" || name.ends_with(".localhost")).then_some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        }
    };
    if let (Some(ip), false) = (literal, allow_private) {
        if let Some(reason) = classify(ip) {
            return Err(refusal(ip, reason));
        }
    }
    Ok(url)
}

/// The text of a refused address.
pub fn refusal(ip: IpAddr, reason: &str) -> String {
    format!(
        "Refused: the webhook target {ip} is {reason}; private targets are allowed only with \
         --webhook-allow-private-targets."
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn refused(text: &str) -> bool {
        classify(text.parse().unwrap()).is_some()
    }

    #[test]
    fn every_private_range_is_refused() {
        for ip in [
            "127.0.0.1",
            "127.255.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(refused(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "169.253.0.1",
            "11.0.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "2002:0808:0808::",
        ] {
            assert!(!refused(ip), "{ip} must pass");
        }
    }

    #[test]
    fn urls_with_literal_private_hosts_are_refused_in_every_spelling() {
        for url in [
            "http://127.0.0.1/hook",
            "http://2130706433/hook",
            "http://0x7f.1/hook",
            "http://0177.0.0.1/hook",
            "http://127.1/hook",
            "http://[::1]:8080/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://[::ffff:7f00:1]/hook",
            "http://169.254.169.254/latest/meta-data",
            "https://10.0.0.5/",
            "http://localhost:3000/hook",
            "http://api.localhost/hook",
            "http://0/",
        ] {
            let refusal = check_url(url, false).unwrap_err();
            assert!(refusal.starts_with("Refused"), "{url}: {refusal}");
            assert!(check_url(url, true).is_ok(), "{url} with the allow flag");
        }
    }

    #[test]
    fn other_urls() {
        assert!(check_url("https://hooks.example.com/x?y=1", false).is_ok());
        for bad in ["ftp://example.com/", "file:///etc/passwd", "not a url", "https://u:p@example.com/", "gopher://x"] {
            assert!(check_url(bad, true).is_err(), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(check_url(&long, true).is_err());
    }
}
