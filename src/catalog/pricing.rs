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

/// How many of `unit` the parameters ask for, or why that cannot be told. `main_text` is the
/// endpoint's prompt (its schema's `promptField`), which speech models are priced by the
/// character of.
pub fn unit_quantity(
    unit: &str,
    params: &Map<String, Value>,
    main_text: Option<&str>,
) -> Result<f64, String> {
    let unit = unit.trim().to_lowercase();
    // "1000 characters": a count of a smaller unit.
    let (per, unit) = match unit.split_once(' ') {
        Some((n, rest)) if n.parse::<f64>().is_ok_and(|n| n > 0.0) => {
            (n.parse::<f64>().unwrap_or(1.0), rest.trim().to_owned())
        }
        _ => (1.0, unit),
    };
    let singular = unit.strip_suffix('s').unwrap_or(&unit);
    if matches!(singular, "character" | "char") {
        let text = main_text.ok_or_else(|| {
            format!("fal prices this model per {unit}, and these settings have no text")
        })?;
        return Ok(text.chars().count() as f64 / per);
    }
    let unit = if per == 1.0 {
        unit.clone()
    } else {
        format!("{per} {unit}")
    };
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
    fn speech_is_counted_by_the_characters_of_its_text() {
        let text = Some("Hello, world"); // 12 characters
        assert_eq!(unit_quantity("characters", &Map::new(), text), Ok(12.0));
        assert_eq!(
            unit_quantity("1000 characters", &Map::new(), text),
            Ok(0.012)
        );
        assert_eq!(
            unit_quantity(
                "1000 Characters",
                &Map::new(),
                Some("é".repeat(500).as_str())
            ),
            Ok(0.5)
        );
        let err = unit_quantity("1000 characters", &Map::new(), None).unwrap_err();
        assert!(err.contains("no text"), "{err}");
        // A count before any other unit is kept in the reason.
        let err = unit_quantity("1000 tokens", &Map::new(), text).unwrap_err();
        assert!(err.contains("per 1000 tokens"), "{err}");
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
            let got = unit_quantity(unit, &params(p.clone()), None).ok();
            assert_eq!(got, *expected, "{unit} with {p}");
        }
    }

    #[test]
    fn reasons_name_the_unit() {
        let err = unit_quantity("tokens", &Map::new(), None).unwrap_err();
        assert!(err.contains("tokens"), "{err}");
    }
}
