//! Which field is the endpoint's prompt: its main free text, whatever the schema calls it.
//! Image models call it `prompt`; text-to-speech models `text`, `gen_text` or `input`; edit
//! models may want an `instruction`. The studio stores that field's value as the asset's prompt
//! (gallery search, share pages) and carries it across model switches.

use super::{Field, FieldType};

/// Names that are the main text of some model, best first after `prompt` itself.
const PROMPT_NAMES: &[&str] = &[
    "text",
    "gen_text",
    "input",
    "instruction",
    "instructions",
    "edit_instruction",
    "text_prompt",
    "caption",
    "script",
    "lyrics",
    "query",
    "question",
    "message",
];

/// Parts of names that are never the prompt even when they are text: what to avoid, which
/// voice or language, reference transcripts, links and identifiers.
const NOT_PROMPT: &[&str] = &[
    "negative",
    "url",
    "voice",
    "language",
    "lang",
    "format",
    "seed",
    "model",
    "mode",
    "key",
    "token",
    "email",
    "path",
    "color",
    "ref_",
    "reference",
    "id",
];

/// Score at which a field is taken as the prompt (a name or description that says so); below
/// it, only a lone required long text field is.
const ENOUGH: i32 = 45;

/// The name of the main text field of `fields` (top-level, in schema order), if one stands out.
pub(super) fn main_text_field(fields: &[Field]) -> Option<String> {
    let scored: Vec<(i32, &Field)> = fields
        .iter()
        .filter_map(|f| score(f).map(|s| (s, f)))
        .collect();
    let best = scored
        .iter()
        .filter(|(s, _)| *s >= ENOUGH)
        // The first of equals: the schema's order puts the main field first.
        .fold(None::<(i32, &Field)>, |best, &(s, f)| match best {
            Some((b, _)) if b >= s => best,
            _ => Some((s, f)),
        });
    if let Some((_, f)) = best {
        return Some(f.name.clone());
    }
    let mut required_long = scored
        .iter()
        .filter(|(_, f)| f.required && f.kind == FieldType::Text);
    match (required_long.next(), required_long.next()) {
        (Some((_, f)), None) => Some(f.name.clone()),
        _ => None,
    }
}

fn score(f: &Field) -> Option<i32> {
    if !matches!(f.kind, FieldType::Text | FieldType::String) {
        return None;
    }
    let name = f.name.to_ascii_lowercase();
    let words: Vec<&str> = name.split(['_', '-']).collect();
    let excluded = NOT_PROMPT.iter().any(|bad| {
        if bad.ends_with('_') {
            name.starts_with(bad)
        } else {
            words.contains(bad) || (bad.len() > 3 && name.contains(bad))
        }
    });
    if excluded {
        return None;
    }
    let mut score = if name == "prompt" {
        100
    } else if PROMPT_NAMES.contains(&name.as_str()) {
        80
    } else if name.contains("prompt") {
        70
    } else if words.contains(&"text") {
        50
    } else {
        0
    };
    let about = format!(
        "{} {}",
        f.title.as_deref().unwrap_or(""),
        f.description.as_deref().unwrap_or("")
    )
    .to_lowercase();
    if [
        "prompt",
        "instruction",
        "describ",
        "to speak",
        "be spoken",
        "to speech",
        "to say",
    ]
    .iter()
    .any(|w| about.contains(w))
    {
        score += 20;
    }
    if f.required {
        score += 25;
    }
    if f.kind == FieldType::Text {
        score += 10;
    }
    Some(score)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::{
        derive_spec,
        test_support::{TEST_ID, image_output, real, real_documents, synthetic},
    };

    fn prompt_of(properties: Value, required: &[&str]) -> Option<String> {
        let input = json!({"type": "object", "properties": properties, "required": required});
        let output = json!({"type": "object", "properties": {"audio": {"type": "object"}}});
        derive_spec(TEST_ID, &synthetic(input, output, json!({}), None), None)
            .unwrap()
            .prompt_field
    }

    #[test]
    fn every_real_document_has_its_prompt_field() {
        for (id, _) in real_documents() {
            assert_eq!(real(id).prompt_field.as_deref(), Some("prompt"), "{id}");
        }
    }

    #[test]
    fn text_to_speech_fields_are_found_by_meaning() {
        // F5-TTS: the text to say, a reference transcript, a reference audio link.
        let f5 = json!({
            "gen_text": {"type": "string", "title": "Text to generate", "description": "The text to be converted to speech."},
            "ref_text": {"type": "string", "title": "Reference text", "description": "The transcript of the reference audio."},
            "ref_audio_url": {"type": "string", "description": "URL of the reference audio."},
            "model_type": {"type": "string", "enum": ["F5-TTS", "E2-TTS"]}
        });
        assert_eq!(
            prompt_of(f5, &["gen_text", "ref_audio_url"]).as_deref(),
            Some("gen_text")
        );
        // ElevenLabs-style: `text`, a voice and a language.
        let tts = json!({
            "voice": {"type": "string", "default": "Rachel"},
            "text": {"type": "string", "description": "The text to convert to speech"},
            "language_code": {"type": "string"}
        });
        assert_eq!(prompt_of(tts.clone(), &["text"]).as_deref(), Some("text"));
        // The prompt gets the long text box, whatever its schema's length.
        let input = json!({"type": "object", "properties": tts, "required": ["text"]});
        let output = json!({"type": "object", "properties": {"audio": {"type": "object"}}});
        let spec = derive_spec(TEST_ID, &synthetic(input, output, json!({}), None), None).unwrap();
        let text = spec.fields.iter().find(|f| f.name == "text").unwrap();
        assert_eq!(text.kind, super::FieldType::Text);
        let kokoro = json!({"input": {"type": "string", "description": "Text to be spoken"}, "voice": {"type": "string"}});
        assert_eq!(prompt_of(kokoro, &["input"]).as_deref(), Some("input"));
    }

    #[test]
    fn edit_instructions_count_and_negative_prompts_never_do() {
        let edit = json!({
            "image_url": {"type": "string", "description": "The image to edit"},
            "instruction": {"type": "string", "description": "What to change in the image"},
            "negative_prompt": {"type": "string", "description": "What to avoid"}
        });
        assert_eq!(
            prompt_of(edit, &["image_url", "instruction"]).as_deref(),
            Some("instruction")
        );
        let only_negative =
            json!({"negative_prompt": {"type": "string"}, "seed": {"type": "integer"}});
        assert_eq!(prompt_of(only_negative, &[]), None);
    }

    #[test]
    fn a_lone_required_long_text_is_the_prompt_and_nothing_is_guessed_otherwise() {
        let long =
            json!({"story": {"type": "string", "maxLength": 5000, "description": "Your story"}});
        let spec_input = json!({"type": "object", "properties": long, "required": ["story"]});
        let spec = derive_spec(
            TEST_ID,
            &synthetic(spec_input, image_output(), json!({}), None),
            None,
        )
        .unwrap();
        let story = spec.fields.iter().find(|f| f.name == "story").unwrap();
        assert_eq!(
            story.kind,
            super::FieldType::Text,
            "over 200 characters: long text"
        );
        assert_eq!(spec.prompt_field.as_deref(), Some("story"));
        let nothing =
            json!({"width": {"type": "integer"}, "style": {"type": "string", "enum": ["a", "b"]}});
        assert_eq!(prompt_of(nothing, &[]), None);
    }
}
