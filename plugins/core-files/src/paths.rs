//! Paths inside a server's directory as this plugin names them: `/a/b.txt`, so a file
//! keeps one history however a client spells it. wings confines every path itself
//! (the kernel resolves it beneath the server's directory); this only normalises.

use hatchery_sdk::Error;

/// `raw` with `.`, empty parts and `..` resolved; `..` above the root is refused.
pub fn normal(raw: &str) -> Result<String, Error> {
    if raw.contains('\0') {
        return Err(Error::bad_request("a path may not contain a NUL byte"));
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(Error::bad_request(format!(
                        "`{raw}` leads outside the server's folder"
                    )));
                }
            }
            part => parts.push(part),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// `name` inside folder `root`.
pub fn join(root: &str, name: &str) -> Result<String, Error> {
    normal(&format!("{root}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_has_one_name() {
        for spelling in [
            "a/b.txt",
            "/a/b.txt",
            "./a//b.txt",
            "a/c/../b.txt",
            "/a/b.txt/",
        ] {
            assert_eq!(normal(spelling).unwrap(), "/a/b.txt", "{spelling}");
        }
        assert_eq!(normal("").unwrap(), "/");
        assert_eq!(join("/plugins", "x.jar").unwrap(), "/plugins/x.jar");
        assert_eq!(join("/", "/x").unwrap(), "/x");
    }

    #[test]
    fn escapes_are_refused() {
        for hostile in ["..", "../etc/passwd", "a/../../b", "a\0b"] {
            assert!(normal(hostile).is_err(), "{hostile}");
        }
    }
}
