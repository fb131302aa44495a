//! Bulk download: the selected assets as one zip, streamed as it is written (stored, not
//! compressed — media is compressed already), with a `metadata.json` describing each file.
//! Nothing is built in memory or on disk first.

use async_zip::{Compression, ZipEntryBuilder, tokio::write::ZipFileWriter};
use axum::{
    body::Body,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::{AsyncWriteExt, StreamExt};
use serde_json::json;
use tokio_util::io::ReaderStream;

use super::AssetRow;
use crate::AppState;

/// The pipe between the zip writer task and the response: bounds memory per download.
const PIPE_BYTES: usize = 256 * 1024;

pub fn stream(state: AppState, assets: Vec<AssetRow>, archive_name: String) -> Response {
    let (reader, writer) = tokio::io::duplex(PIPE_BYTES);
    tokio::spawn(async move {
        if let Err(e) = write(&state, assets, writer).await {
            // The client sees a truncated download, which archive tools report as broken.
            tracing::warn!(error = %e, "zip download stopped");
        }
    });
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                crate::storage::content_disposition(&archive_name, true),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        Body::from_stream(ReaderStream::new(reader)),
    )
        .into_response()
}

async fn write(
    state: &AppState,
    assets: Vec<AssetRow>,
    pipe: tokio::io::DuplexStream,
) -> anyhow::Result<()> {
    let mut zip = ZipFileWriter::with_tokio(pipe);
    let download_names: Vec<String> = assets.iter().map(AssetRow::download_name).collect();
    let names = entry_names(download_names.iter().map(String::as_str));
    /// An asset's metadata and its name inside the zip.
    #[derive(serde::Serialize)]
    struct Entry<'a> {
        #[serde(flatten)]
        asset: super::AssetView,
        file: &'a str,
    }
    let metadata = json!({
        "files": assets.iter().zip(&names).map(|(a, name)| Entry { asset: a.view(), file: name }).collect::<Vec<_>>()
    });
    let bytes = serde_json::to_vec_pretty(&metadata)?;
    let mut builder = ZipEntryBuilder::new("metadata.json".to_owned().into(), Compression::Stored);
    // Dated as the newest file it describes: left undated, the zip holds month 0 of 1980,
    // which unzip tools show as an invalid date.
    if let Some(date) = assets
        .iter()
        .map(|a| a.created_at.as_str())
        .max()
        .and_then(super::naming::zip_date)
    {
        builder = builder.last_modification_date(date);
    }
    zip.write_entry_whole(builder, &bytes).await?;
    for (asset, name) in assets.iter().zip(names) {
        let object = state.storage.get(&asset.storage_key, None).await?;
        let mut builder = ZipEntryBuilder::new(name.into(), Compression::Stored);
        // The asset's own date, not the moment of the download (or 1980).
        if let Some(date) = super::naming::zip_date(&asset.created_at) {
            builder = builder.last_modification_date(date);
        }
        let mut entry = zip.write_entry_stream(builder).await?;
        let mut body = object.body.into_data_stream();
        while let Some(chunk) = body.next().await {
            entry.write_all(&chunk?).await?;
        }
        entry.close().await?;
    }
    zip.close().await?;
    Ok(())
}

/// The names inside the archive: each file's safe name behind its position (`001-`, `002-`...),
/// so two files of the same name, or names that only differ in dropped characters, never
/// collide, and none can be `metadata.json`.
fn entry_names<'a>(file_names: impl Iterator<Item = &'a str>) -> Vec<String> {
    file_names
        .enumerate()
        .map(|(i, name)| format!("{:03}-{}", i + 1, safe_name(name)))
        .collect()
}

/// Characters Windows refuses in file names (`/` and `\` are cut at before this).
const UNSAFE_CHARS: &[char] = &[':', '*', '?', '"', '<', '>', '|'];

/// A file name safe inside an archive and when unpacked on any system: no folders, no control
/// characters, none of `:*?"<>|`, no trailing dots or spaces (which Windows drops).
fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !UNSAFE_CHARS.contains(c))
        .collect();
    let cleaned = cleaned.trim_end_matches(['.', ' ']).trim_start();
    if cleaned.is_empty() {
        "file".into()
    } else {
        cleaned.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_folders_control_and_windows_reserved_characters() {
        let cases = [
            ("a:b*c?d\"e<f>g|h.png", "abcdefgh.png"),
            ("../../etc/passwd", "passwd"),
            ("C:\\photos\\cat.png", "cat.png"),
            ("tab\there\n.png", "tabhere.png"),
            ("..", "file"),
            ("name. . ", "name"),
            ("::??", "file"),
            ("", "file"),
        ];
        for (raw, expected) in cases {
            assert_eq!(safe_name(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn entry_names_stay_unique_when_file_names_do_not() {
        let names = entry_names(["a?.png", "a.png", "a*.png", "metadata.json"].into_iter());
        let unique: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert!(names.iter().all(|n| n != "metadata.json"), "{names:?}");
        assert_eq!(names[0], "001-a.png");
    }
}
