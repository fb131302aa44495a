//! Build steps of the studio:
//! - rebuild when a migration changes, since `sqlx::migrate!` embeds them at compile time;
//! - embed the built web app (`static/`, the committed build of `web/`) in the binary, so it
//!   serves the app from any working directory. Text files are compressed here, once, with
//!   gzip and brotli at their best settings, which would be too slow per request or at start-up;
//!   the server then only picks the copy the client accepts (`src/web/embedded.rs`).

use std::{
    env,
    fmt::Write as _,
    fs,
    io::{Read, Write as _},
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    // A directory makes cargo rerun this script when any file under it changes.
    println!("cargo:rerun-if-changed=static");
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    if let Err(message) = embed_web_app(&manifest_dir.join("static"), &out_dir) {
        // A binary without its web app would answer every page with nothing; fail the build.
        panic!("embedding the web app from static/: {message}");
    }
}

/// Writes `OUT_DIR/web_app.rs`: a slice of `crate::web::embedded::File`, sorted by URL path,
/// whose bodies are `include_bytes!` of `static/` and of the compressed copies in `OUT_DIR`.
fn embed_web_app(static_dir: &Path, out_dir: &Path) -> Result<(), String> {
    if !static_dir.join("index.html").is_file() {
        return Err(format!(
            "{} has no index.html; build the web app with `npm --prefix web run build`",
            static_dir.display()
        ));
    }
    let mut files = Vec::new();
    collect(static_dir, static_dir, &mut files)?;
    files.sort();

    let compressed_dir = out_dir.join("web_app");
    fs::create_dir_all(&compressed_dir)
        .map_err(|e| format!("{}: {e}", compressed_dir.display()))?;
    let mut code = String::from("&[\n");
    for (n, (url_path, file)) in files.iter().enumerate() {
        let body = fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let (content_type, compressible) = content_type(file);
        // The ETag names the content, so it changes exactly when the file does; each encoding
        // is its own representation and gets its own tag.
        let hash = Sha256::digest(&body);
        let tag: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
        let variant = |suffix: &str, compressed: Option<Vec<u8>>| -> Result<String, String> {
            // A compressed copy that saves nothing is not worth a second representation.
            match compressed.filter(|c| c.len() < body.len()) {
                Some(bytes) => {
                    let path = compressed_dir.join(format!("{n}.{suffix}"));
                    fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
                    Ok(format!(
                        "Some(Representation {{ body: include_bytes!({path:?}), etag: \"\\\"{tag}-{suffix}\\\"\" }})"
                    ))
                }
                None => Ok("None".into()),
            }
        };
        let gzip = variant("gz", compressible.then(|| gzip(&body)).transpose()?)?;
        let brotli = variant("br", compressible.then(|| brotli(&body)).transpose()?)?;
        let file = file
            .to_str()
            .ok_or_else(|| format!("{} is not UTF-8", file.display()))?;
        writeln!(
            code,
            "    File {{ path: {url_path:?}, content_type: {content_type:?}, \
             identity: Representation {{ body: include_bytes!({file:?}), etag: \"\\\"{tag}\\\"\" }}, \
             gzip: {gzip}, brotli: {brotli} }},"
        )
        .expect("writing to a String");
    }
    code.push_str("]\n");
    let generated = out_dir.join("web_app.rs");
    fs::write(&generated, code).map_err(|e| format!("{}: {e}", generated.display()))
}

/// Every file under `dir`, with its URL path (`/assets/index-….js`).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            collect(root, &path, files)?;
            continue;
        }
        let relative = path
            .strip_prefix(root)
            .expect("under the root it was listed from");
        let url_path = relative
            .components()
            .map(|c| c.as_os_str().to_str())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("{} is not UTF-8", path.display()))?
            .join("/");
        files.push((format!("/{url_path}"), path));
    }
    Ok(())
}

/// The Content-Type a file is served with, and whether it is text worth compressing. The
/// types Vite emits; anything else is served as bytes, uncompressed.
fn content_type(file: &Path) -> (&'static str, bool) {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => ("text/html; charset=utf-8", true),
        "js" | "mjs" => ("text/javascript; charset=utf-8", true),
        "css" => ("text/css; charset=utf-8", true),
        "json" | "map" => ("application/json", true),
        "webmanifest" => ("application/manifest+json", true),
        "svg" => ("image/svg+xml", true),
        "txt" => ("text/plain; charset=utf-8", true),
        "wasm" => ("application/wasm", true),
        "ico" => ("image/x-icon", true),
        "png" => ("image/png", false),
        "jpg" | "jpeg" => ("image/jpeg", false),
        "gif" => ("image/gif", false),
        "webp" => ("image/webp", false),
        "avif" => ("image/avif", false),
        "woff2" => ("font/woff2", false),
        "woff" => ("font/woff", false),
        _ => ("application/octet-stream", false),
    }
}

fn gzip(body: &[u8]) -> Result<Vec<u8>, String> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(body).map_err(|e| format!("gzip: {e}"))?;
    let compressed = encoder.finish().map_err(|e| format!("gzip: {e}"))?;
    round_trips("gzip", body, flate2::read::GzDecoder::new(&compressed[..]))?;
    Ok(compressed)
}

fn brotli(body: &[u8]) -> Result<Vec<u8>, String> {
    // Quality 11 (the best) with a 4 MiB window: the file is compressed once, served often.
    let mut encoder = brotli::CompressorWriter::new(Vec::new(), 64 * 1024, 11, 22);
    encoder
        .write_all(body)
        .map_err(|e| format!("brotli: {e}"))?;
    // into_inner finishes the stream.
    let compressed = encoder.into_inner();
    round_trips(
        "brotli",
        body,
        brotli::Decompressor::new(&compressed[..], 64 * 1024),
    )?;
    Ok(compressed)
}

/// Decompressing gives the file back. The tests compare what is served with what is stored,
/// and no client in them decodes brotli, so the stored copies are proven right here.
fn round_trips(coding: &str, body: &[u8], mut decoder: impl Read) -> Result<(), String> {
    let mut decoded = Vec::with_capacity(body.len());
    decoder
        .read_to_end(&mut decoded)
        .map_err(|e| format!("the {coding} copy does not decompress: {e}"))?;
    if decoded != body {
        return Err(format!("the {coding} copy does not decompress to the file"));
    }
    Ok(())
}
