//! What a downloaded output is called: `<model>-<first words of the prompt>-<seed>-<n>.<ext>`,
//! the same in the viewer, on share pages and in zip files, so a folder of downloads sorts by
//! model and reads like the prompts that made them.

use super::AssetRow;

/// Words of the prompt a name keeps.
const PROMPT_WORDS: usize = 6;
/// Characters each part of a name keeps (names stay well under every file system's limit).
const MODEL_CHARS: usize = 40;
const PROMPT_CHARS: usize = 48;

impl AssetRow {
    /// `<model>-<first words of the prompt>-<seed>-<n>.<ext>`; parts the asset lacks (no
    /// prompt, no seed) are left out.
    pub fn download_name(&self) -> String {
        let mut parts = vec![slug(&self.model, MODEL_CHARS)];
        if let Some(prompt) = self.prompt.as_deref() {
            let words: Vec<&str> = prompt.split_whitespace().take(PROMPT_WORDS).collect();
            parts.push(slug(&words.join(" "), PROMPT_CHARS));
        }
        if let Some(seed) = self.seed {
            parts.push(seed.to_string());
        }
        parts.push((self.output_index + 1).to_string());
        parts.retain(|p| !p.is_empty());
        format!(
            "{}.{}",
            parts.join("-"),
            extension(&self.file_name, &self.content_type)
        )
    }
}

/// Lower-case letters and digits (any script), words joined by `-`, at most `max` characters,
/// never ending in `-`.
fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let cut: String = out.chars().take(max).collect();
    cut.trim_end_matches('-').to_owned()
}

/// The stored file's own extension when it has a plausible one, else the type's.
fn extension(file_name: &str, content_type: &str) -> String {
    let own = file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .filter(|ext| {
            (1..=5).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric())
        });
    if let Some(ext) = own {
        return ext;
    }
    crate::jobs::outputs::extension_for(content_type).to_owned()
}

/// A zip entry's modification time from the asset's `created_at` (`2026-12-04T03:22:51.123Z`,
/// UTC); `None` when the text is not that shape.
pub(super) fn zip_date(created_at: &str) -> Option<async_zip::ZipDateTime> {
    let number = |range: std::ops::Range<usize>| created_at.get(range)?.parse::<u32>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    // The zip format counts years from 1980 and stores 7 bits of them.
    if !(1980..2108).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(
        async_zip::ZipDateTimeBuilder::new()
            .year(i32::try_from(year).ok()?)
            .month(month)
            .day(day)
            .hour(hour.min(23))
            .minute(minute.min(59))
            .second(second.min(59))
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(
        model: &str,
        prompt: Option<&str>,
        seed: Option<i64>,
        index: i64,
        file: &str,
        ty: &str,
    ) -> AssetRow {
        AssetRow {
            id: "a1".into(),
            user_id: "u1".into(),
            job_id: None,
            endpoint_id: "fal-ai/x".into(),
            model: model.into(),
            prompt: prompt.map(str::to_owned),
            result_kind: "image".into(),
            storage_mode: "local".into(),
            storage_key: "k".into(),
            content_type: ty.into(),
            byte_size: 1,
            sha256: "s".into(),
            width: None,
            height: None,
            output_duration: None,
            inference_time: None,
            seed,
            params: sqlx::types::Json(serde_json::Map::new()),
            file_name: file.into(),
            output_index: index,
            created_at: "2026-12-04T03:22:51.123Z".into(),
            thumb_status: crate::assets::store::ThumbStatus::Pending,
            thumb_key: None,
            thumb_content_type: None,
            thumb_byte_size: None,
            thumb_sha256: None,
            group_id: None,
            starred_at: None,
        }
    }

    #[test]
    fn names_say_model_prompt_seed_and_place() {
        let a = asset(
            "Seedream 4.0",
            Some("A red fox, sitting in deep snow at dawn — photorealistic"),
            Some(42),
            1,
            "output.png",
            "image/png",
        );
        assert_eq!(
            a.download_name(),
            "seedream-4-0-a-red-fox-sitting-in-deep-42-2.png"
        );
        let bare = asset("Veo 3", None, None, 0, "", "video/mp4");
        assert_eq!(bare.download_name(), "veo-3-1.mp4");
        let odd = asset(
            "Kling/Pro: v2",
            Some("  «Café» 東京  "),
            None,
            0,
            "weird.name.JPEG",
            "image/jpeg",
        );
        assert_eq!(odd.download_name(), "kling-pro-v2-café-東京-1.jpeg");
        let no_ext = asset("M", Some("x"), None, 0, "noextension", "audio/mpeg");
        assert_eq!(no_ext.download_name(), "m-x-1.mp3");
    }

    #[test]
    fn zip_dates_come_from_created_at() {
        let date = zip_date("2026-12-04T03:22:51.123Z").expect("a date");
        assert_eq!((date.year(), date.month(), date.day()), (2026, 12, 4));
        assert_eq!(
            (date.hour(), date.minute(), date.second()),
            (3, 22, 50),
            "two-second steps"
        );
        assert!(zip_date("yesterday").is_none());
        assert!(zip_date("1970-01-01T00:00:00.000Z").is_none());
    }
}
