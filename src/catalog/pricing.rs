//! Unit prices (cached per endpoint) and how many units a set of parameters uses, for fal's
//! estimate API. Where the unit cannot be counted from the parameters the answer says so
//! instead of guessing.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use super::cache::{Lookup, TtlCache};
use crate::fal::{FalClient, FalKey};

/// Prices change rarely; an hour keeps the picker from asking on every page.
const PRICE_TTL: Duration = Duration::from_secs(3600);
/// fal's pricing endpoint takes at most 50 ids per call.
const PRICING_BATCH: usize = 50;

/// fal's price of one unit of output.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    pub unit_price: f64,
    pub unit: String,
    pub currency: String,
}

pub struct PriceBook {
    cache: TtlCache<String, Option<Price>>,
}

impl Default for PriceBook {
    fn default() -> Self {
        PriceBook {
            cache: TtlCache::new(PRICE_TTL, 10_000),
        }
    }
}

impl PriceBook {
    /// Prices for `ids` in the same order; `None` where fal has no price or could not be asked.
    /// Never fails: a price is a nicety next to the model list. Cached per key (fingerprint):
    /// a private app's price, or an account's own price, is not another key's answer.
    pub async fn prices(
        &self,
        fal: &FalClient,
        key: &FalKey,
        ids: &[String],
    ) -> Vec<Option<Price>> {
        let fingerprint = super::key_fingerprint(Some(key));
        let entry = |id: &str| format!("{fingerprint}|{id}");
        let mut missing: Vec<String> = Vec::new();
        let mut stale: Vec<(String, Option<Price>)> = Vec::new();
        for id in ids {
            match self.cache.get(&entry(id)) {
                Lookup::Fresh(_) => {}
                Lookup::Stale(p) => {
                    missing.push(id.clone());
                    stale.push((id.clone(), p));
                }
                Lookup::Missing => missing.push(id.clone()),
            }
        }
        missing.sort();
        missing.dedup();
        for batch in missing.chunks(PRICING_BATCH) {
            match fal.pricing(key, batch).await {
                Ok(found) => {
                    for id in batch {
                        let price = found.iter().find(|p| &p.endpoint_id == id).map(|p| Price {
                            unit_price: p.unit_price,
                            unit: p.unit.clone(),
                            currency: p.currency.clone(),
                        });
                        self.cache.insert(entry(id), price);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "pricing unavailable"),
            }
        }
        ids.iter()
            .map(|id| match self.cache.get(&entry(id)) {
                Lookup::Fresh(p) | Lookup::Stale(p) => p,
                Lookup::Missing => stale
                    .iter()
                    .find(|(s, _)| s == id)
                    .and_then(|(_, p)| p.clone()),
            })
            .collect()
    }
}

/// How many of `unit` the parameters ask for, or why that cannot be told.
pub fn unit_quantity(unit: &str, params: &Map<String, Value>) -> Result<f64, String> {
    let unit = unit.trim().to_lowercase();
    let singular = unit.strip_suffix('s').unwrap_or(&unit);
    let outputs = ["num_images", "num_outputs", "num_videos", "n"]
        .iter()
        .find_map(|k| params.get(*k).and_then(Value::as_f64))
        .filter(|n| *n >= 1.0)
        .unwrap_or(1.0);
    match singular {
        "image" | "video" | "output" | "request" | "call" | "generation" | "run" | "unit" => {
            Ok(outputs)
        }
        "second" | "sec" => {
            let duration = params
                .get("duration")
                .and_then(number_in)
                .or_else(|| params.get("duration_seconds").and_then(number_in))
                .ok_or_else(|| {
                    "fal prices this model per second, and these settings give no duration"
                        .to_owned()
                })?;
            Ok(duration * outputs)
        }
        "megapixel" | "mp" => {
            let size = params.get("image_size").and_then(Value::as_object);
            let w = size.and_then(|s| s.get("width")).and_then(Value::as_f64);
            let h = size.and_then(|s| s.get("height")).and_then(Value::as_f64);
            match (w, h) {
                (Some(w), Some(h)) => Ok((w * h / 1_000_000.0).max(0.0) * outputs),
                _ => Err(
                    "fal prices this model per megapixel; choose a custom width and height to see an estimate"
                        .to_owned(),
                ),
            }
        }
        _ => Err(format!(
            "fal prices this model per {unit}; the studio cannot tell how many that is for these settings"
        )),
    }
}

/// `5`, `"5"`, `"8s"`, `"10 seconds"` → the leading number.
fn number_in(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let digits: String = s
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            digits.parse().ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn counts_units_from_parameters() {
        let cases: &[(&str, Value, Option<f64>)] = &[
            ("image", json!({}), Some(1.0)),
            ("images", json!({"num_images": 4}), Some(4.0)),
            ("seconds", json!({"duration": "8s"}), Some(8.0)),
            ("second", json!({"duration": 5}), Some(5.0)),
            ("seconds", json!({"duration": "10"}), Some(10.0)),
            ("seconds", json!({}), None),
            (
                "megapixels",
                json!({"image_size": {"width": 2000, "height": 1000}, "num_images": 2}),
                Some(4.0),
            ),
            ("megapixels", json!({"image_size": "square_hd"}), None),
            ("video", json!({}), Some(1.0)),
            ("tokens", json!({}), None),
        ];
        for (unit, p, expected) in cases {
            let got = unit_quantity(unit, &params(p.clone())).ok();
            assert_eq!(got, *expected, "{unit} with {p}");
        }
    }

    #[test]
    fn reasons_name_the_unit() {
        let err = unit_quantity("tokens", &Map::new()).unwrap_err();
        assert!(err.contains("tokens"), "{err}");
    }
}
