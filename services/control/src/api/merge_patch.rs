//! RFC 7396 JSON merge patch, how PATCH applies to a subscription's creation body.

/// RFC 7396 JSON merge patch.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            let t = target.as_object_mut().expect("made an object above");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_replaces_clears_and_merges() {
        let mut t = serde_json::json!({"a": 1, "b": {"c": 2, "d": 3}, "e": "x"});
        merge_patch(&mut t, &serde_json::json!({"a": 5, "b": {"c": null}, "e": null, "f": [1]}));
        assert_eq!(t, serde_json::json!({"a": 5, "b": {"d": 3}, "f": [1]}));
    }
}
