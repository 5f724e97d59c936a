//! The route patterns a manifest declares (`/greetings/{name}`), and matching request
//! paths against them.

/// A compiled `/greetings/{name}` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePattern {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

impl RoutePattern {
    pub fn parse(path: &str) -> Result<RoutePattern, String> {
        let rest = path
            .strip_prefix('/')
            .ok_or_else(|| format!("route path `{path}` must start with /"))?;
        let mut segments = Vec::new();
        if !rest.is_empty() {
            for part in rest.split('/') {
                if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    if name.is_empty()
                        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        return Err(format!(
                            "route path `{path}`: `{part}` is not a valid parameter"
                        ));
                    }
                    segments.push(Segment::Param(name.to_string()));
                } else if !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
                {
                    segments.push(Segment::Literal(part.to_string()));
                } else {
                    return Err(format!(
                        "route path `{path}`: segment `{part}` is not allowed"
                    ));
                }
            }
        }
        Ok(RoutePattern { segments })
    }

    /// The parameter values when `path` matches this pattern.
    pub fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let rest = path.strip_prefix('/')?;
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = Vec::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            match segment {
                Segment::Literal(literal) if literal == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(_) if part.is_empty() => return None,
                Segment::Param(name) => params.push((name.clone(), percent_decode(part)?)),
            }
        }
        Some(params)
    }
}

impl RoutePattern {
    /// Whether some path matches both patterns (a parameter matches any segment).
    pub fn overlaps(&self, other: &RoutePattern) -> bool {
        self.segments.len() == other.segments.len()
            && self
                .segments
                .iter()
                .zip(&other.segments)
                .all(|pair| match pair {
                    (Segment::Literal(a), Segment::Literal(b)) => a == b,
                    _ => true,
                })
    }
}

/// Decodes `%XX` escapes; `None` for malformed escapes or non-UTF-8 results.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_parameter_segments_match() {
        let pattern = RoutePattern::parse("/greetings/{name}").unwrap();
        assert_eq!(
            pattern.matches("/greetings/Ada%20L"),
            Some(vec![("name".into(), "Ada L".into())])
        );
        assert_eq!(pattern.matches("/greetings"), None);
        assert_eq!(pattern.matches("/greetings/a/b"), None);
        assert_eq!(pattern.matches("/other/x"), None);
        assert_eq!(pattern.matches("/greetings/%zz"), None);
        assert_eq!(RoutePattern::parse("/").unwrap().matches("/"), Some(vec![]));
    }

    #[test]
    fn overlapping_patterns_are_found() {
        let pattern = |path| RoutePattern::parse(path).unwrap();
        assert!(pattern("/files/{name}").overlaps(&pattern("/files/contents")));
        assert!(pattern("/{area}/list").overlaps(&pattern("/files/list")));
        assert!(!pattern("/files/list").overlaps(&pattern("/files/contents")));
        assert!(!pattern("/files").overlaps(&pattern("/files/list")));
    }

    #[test]
    fn bad_patterns_are_refused() {
        assert!(RoutePattern::parse("nope").is_err());
        assert!(RoutePattern::parse("/a//b").is_err());
        assert!(RoutePattern::parse("/{}").is_err());
        assert!(RoutePattern::parse("/a b").is_err());
    }
}
