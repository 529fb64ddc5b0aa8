//! GET parameters the way TikTok wants them: scalars plain, arrays and objects JSON-encoded
//! into a single value (REFERENCE 1.3), never repeated keys or comma lists.

use serde::Serialize;

#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn new() -> Self {
        Self::default()
    }

    /// A plain scalar (`advertiser_id=123`, `page=2`).
    pub fn param(mut self, key: &str, value: impl ToString) -> Self {
        self.pairs.push((key.to_string(), value.to_string()));
        self
    }

    /// An array or object, JSON-encoded into one value (`fields=["a","b"]`).
    pub fn json(mut self, key: &str, value: &impl Serialize) -> Self {
        // Serializing plain collections of strings and maps cannot fail.
        let encoded = serde_json::to_string(value).unwrap_or_else(|_| "null".to_string());
        self.pairs.push((key.to_string(), encoded));
        self
    }

    /// Replaces (or adds) a scalar; used by the pager to set `page`.
    pub fn set(mut self, key: &str, value: impl ToString) -> Self {
        self.pairs.retain(|(k, _)| k != key);
        self.param(key, value)
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_are_json_encoded_once() {
        let q = Query::new()
            .param("advertiser_id", "7301234567890123456")
            .json("fields", &["campaign_id", "campaign_name"]);
        assert_eq!(q.get("advertiser_id"), Some("7301234567890123456"));
        assert_eq!(q.get("fields"), Some(r#"["campaign_id","campaign_name"]"#));
    }

    #[test]
    fn set_replaces() {
        let q = Query::new().param("page", 1).set("page", 2);
        assert_eq!(q.pairs().len(), 1);
        assert_eq!(q.get("page"), Some("2"));
    }
}
