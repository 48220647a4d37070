//! A Gumroad Ping body, decoded: form-encoded (what the Ping URL gets) or JSON (some resource
//! subscriptions).
//!
//! Gumroad builds form bodies with nested keys (`card[visual]=`, `custom_fields[Your name]=`,
//! `variants[]=` for a blank variant category) and percent-encodes every key and value (`%20`
//! for a space). Before encoding it escapes `[` and `]` inside each hash key, so a custom field
//! named `a[b]` arrives as `custom_fields[a%5Bb%5D]` after the one decoding `form_urlencoded`
//! does: the brackets inside a child name are unescaped here, nothing else is decoded twice.
//! Custom fields are also copied to the top level by Gumroad; they are read only from
//! `custom_fields[...]`, so a field called `email` never shadows the buyer's address.

use std::collections::BTreeMap;

/// A decoded delivery. Scalars are top-level `key=value` pairs; `nested["card"]` holds
/// `card[visual]`, `card[type]`, ... as (child, value) in arrival order, with child `""` for
/// `key[]=` (arrays, and a variant category with a blank name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ping {
    pub scalars: BTreeMap<String, String>,
    pub nested: BTreeMap<String, Vec<(String, String)>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PingError {
    #[error("the body is not valid JSON: {0}")]
    Json(String),
    #[error("the JSON body is not an object")]
    NotAnObject,
}

impl Ping {
    /// Decodes a body by its content type: JSON when the type says so (or the body is an object
    /// and no type was sent), form-encoded otherwise.
    pub fn parse(content_type: &str, body: &[u8]) -> Result<Ping, PingError> {
        let is_json = content_type.to_ascii_lowercase().contains("json")
            || (content_type.is_empty() && body.trim_ascii_start().starts_with(b"{"));
        if is_json {
            Self::from_json(body)
        } else {
            Ok(Self::from_form(body))
        }
    }

    pub fn from_form(body: &[u8]) -> Ping {
        let mut ping = Ping::default();
        for (key, value) in form_urlencoded::parse(body) {
            ping.insert(&key, value.into_owned());
        }
        ping
    }

    pub fn from_json(body: &[u8]) -> Result<Ping, PingError> {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| PingError::Json(e.to_string()))?;
        let object = value.as_object().ok_or(PingError::NotAnObject)?;
        let mut ping = Ping::default();
        for (key, value) in object {
            match value {
                serde_json::Value::Object(children) => {
                    let entries = ping.nested.entry(key.clone()).or_default();
                    for (child, v) in children {
                        entries.push((child.clone(), json_scalar(v)));
                    }
                }
                serde_json::Value::Array(items) => {
                    let entries = ping.nested.entry(key.clone()).or_default();
                    for v in items {
                        entries.push((String::new(), json_scalar(v)));
                    }
                }
                other => {
                    ping.scalars.insert(key.clone(), json_scalar(other));
                }
            }
        }
        Ok(ping)
    }

    fn insert(&mut self, key: &str, value: String) {
        match split_nested(key) {
            Some((parent, child)) => self
                .nested
                .entry(parent.to_string())
                .or_default()
                .push((child, value)),
            None => {
                self.scalars.insert(key.to_string(), value);
            }
        }
    }

    /// A top-level value; empty values count as absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.scalars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `true` only for the literal `true` (Gumroad's booleans), and JSON's true.
    pub fn flag(&self, key: &str) -> bool {
        self.get(key) == Some("true")
    }

    pub fn children(&self, parent: &str) -> &[(String, String)] {
        self.nested.get(parent).map(Vec::as_slice).unwrap_or(&[])
    }

    /// One child value, e.g. `child("card", "visual")`.
    pub fn child(&self, parent: &str, child: &str) -> Option<&str> {
        self.children(parent)
            .iter()
            .find(|(c, _)| c == child)
            .map(|(_, v)| v.as_str())
    }

    pub fn sale_id(&self) -> Option<&str> {
        self.get("sale_id")
    }

    /// `sale` when absent: the Ping URL's deliveries from older Gumroad code carry none.
    pub fn resource_name(&self) -> &str {
        self.get("resource_name").unwrap_or("sale")
    }

    /// The buyer's address: `email` on sales, `user_email` on subscription events.
    pub fn email(&self) -> Option<&str> {
        self.get("email").or_else(|| self.get("user_email"))
    }

    /// The giver's address, when this is the receiver's side of a gift purchase (the only side
    /// Gumroad pings).
    pub fn gifter(&self) -> Option<&str> {
        if !self.flag("is_gift_receiver_purchase") {
            return None;
        }
        self.get("gifter_email").map(str::trim)
    }

    pub fn retry_count(&self) -> i32 {
        self.get("retry_count")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// The variant values chosen, in arrival order (the category names are not needed to map
    /// a product; a blank category is fine).
    pub fn variants(&self) -> Vec<&str> {
        self.children("variants")
            .iter()
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
            .collect()
    }
}

/// `parent[child]` -> (parent, child); `parent[]` -> (parent, ""). The child is everything up
/// to the last `]`, with Gumroad's pre-escaped brackets restored.
fn split_nested(key: &str) -> Option<(&str, String)> {
    let open = key.find('[')?;
    if open == 0 || !key.ends_with(']') {
        return None;
    }
    let inner = &key[open + 1..key.len() - 1];
    Some((&key[..open], unescape_brackets(inner)))
}

fn unescape_brackets(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let code = rest.get(at..at + 3).map(str::to_ascii_uppercase);
        match code.as_deref() {
            Some("%5B") => out.push('['),
            Some("%5D") => out.push(']'),
            _ => {
                out.push('%');
                rest = &rest[at + 1..];
                continue;
            }
        }
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    out
}

fn json_scalar(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_keys_brackets_and_blank_categories() {
        let body = "email=buyer%40example.com&full_name=Jos%C3%A9%20%C3%91u%C3%B1ez\
                    &card%5Bvisual%5D=%2A%2A%2A%2A%20%2A%2A%2A%2A%20%2A%2A%2A%2A%204242\
                    &variants%5B%5D=Large&variants%5BTier%5D=Pro%20%E2%9C%93\
                    &custom_fields%5BA%20%26%20B%5D=x%26y\
                    &custom_fields%5Ba%255Bb%255D%5D=bracketed\
                    &email%20me=plus+sign&test=true";
        let ping = Ping::from_form(body.as_bytes());
        assert_eq!(ping.get("email"), Some("buyer@example.com"));
        assert_eq!(ping.get("full_name"), Some("José Ñuñez"));
        assert_eq!(ping.child("card", "visual"), Some("**** **** **** 4242"));
        assert_eq!(ping.variants(), vec!["Large", "Pro ✓"]);
        assert_eq!(ping.child("variants", ""), Some("Large"));
        assert_eq!(ping.child("custom_fields", "A & B"), Some("x&y"));
        assert_eq!(ping.child("custom_fields", "a[b]"), Some("bracketed"));
        assert_eq!(ping.get("email me"), Some("plus sign"));
        assert!(ping.flag("test"));
        assert_eq!(ping.resource_name(), "sale");
    }

    #[test]
    fn percent_signs_in_names_are_not_decoded_twice() {
        assert_eq!(unescape_brackets("50%25 off%5b1%5D"), "50%25 off[1]");
        assert_eq!(unescape_brackets("100%"), "100%");
    }

    #[test]
    fn json_bodies() {
        let ping = Ping::parse(
            "application/json",
            br#"{"resource_name":"cancellation","subscription_id":"S1","purchase_ids":["a","b"],
                "custom_fields":{"x":1},"cancelled":true,"user_email":"u@example.com"}"#,
        )
        .unwrap();
        assert_eq!(ping.resource_name(), "cancellation");
        assert!(ping.flag("cancelled"));
        assert_eq!(ping.child("custom_fields", "x"), Some("1"));
        assert_eq!(ping.children("purchase_ids").len(), 2);
        assert_eq!(ping.email(), Some("u@example.com"));
        assert!(Ping::parse("application/json", b"[1]").is_err());
    }
}
