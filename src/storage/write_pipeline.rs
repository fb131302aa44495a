//! Writes a stream to a local file while computing its sha256, with receiving, hashing and
//! writing each on their own thread.
//!
//! Bytes are copied once, into one of a few fixed buffers. A full buffer goes to the hashing
//! thread, then to the writing thread, then back to the pool. Reusing the buffers means no
//! allocation (and no fresh pages for the kernel to zero) per megabyte. The pool being small
//! bounds the memory of an ingest, whatever the object's size, and a slow disk or hasher slows
//! the receiver instead of piling up bytes.

use std::{fs::File, io, sync::mpsc as std_mpsc};

use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

/// Bytes handed over at once. Measured with `scripts/bench --only ingest` against the same
/// build with other sizes, one after the other: 1 MiB writes cost the kernel over twice the CPU
/// per GiB (5.0-5.4 s against 2.0-2.2 s at 256 KiB; 128 KiB was no better than 256).
const BUFFER_BYTES: usize = 256 * 1024;
/// Buffers in flight, 2 MiB in all: a few filling, hashing and writing, the rest spare.
const BUFFERS: usize = 8;

pub struct WritePipeline {
    to_hash: mpsc::Sender<Vec<u8>>,
    free: mpsc::Receiver<Vec<u8>>,
    created: usize,
    filling: Vec<u8>,
    hashed: oneshot::Receiver<[u8; 32]>,
    written: oneshot::Receiver<io::Result<()>>,
}

impl WritePipeline {
    /// `on_progress(offset, len)` runs on the writing thread after each write (for starting
    /// writeback); the file is fsynced when the pipeline finishes.
    pub fn start(file: File, on_progress: impl FnMut(&File, u64) + Send + 'static) -> Self {
        let (to_hash, from_receiver) = mpsc::channel::<Vec<u8>>(BUFFERS);
        let (to_write, from_hasher) = std_mpsc::sync_channel::<Vec<u8>>(BUFFERS);
        let (back_to_pool, free) = mpsc::channel::<Vec<u8>>(BUFFERS);
        let (hash_done, hashed) = oneshot::channel();
        let (write_done, written) = oneshot::channel();
        tokio::task::spawn_blocking(move || hash_then_pass(from_receiver, to_write, hash_done));
        tokio::task::spawn_blocking(move || {
            let result = write_all(file, from_hasher, back_to_pool, on_progress);
            let _ = write_done.send(result);
        });
        WritePipeline {
            to_hash,
            free,
            created: 0,
            filling: Vec::new(),
            hashed,
            written,
        }
    }

    /// Copies `bytes` in, handing over every buffer that fills.
    pub async fn write(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            if self.filling.capacity() == 0 {
                self.filling = self.next_buffer().await?;
            }
            let n = (BUFFER_BYTES - self.filling.len()).min(bytes.len());
            self.filling.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.filling.len() == BUFFER_BYTES {
                self.hand_over().await?;
            }
        }
        Ok(())
    }

    /// Hands over the last bytes, waits until everything is hashed, written and fsynced, and
    /// returns the sha256.
    pub async fn finish(mut self) -> io::Result<[u8; 32]> {
        if !self.filling.is_empty() {
            self.hand_over().await?;
        }
        drop(self.to_hash);
        outcome(self.written.await)?;
        self.hashed
            .await
            .map_err(|_| io::Error::other("the hashing thread stopped"))
    }

    async fn next_buffer(&mut self) -> io::Result<Vec<u8>> {
        if self.created < BUFFERS {
            self.created += 1;
            return Ok(Vec::with_capacity(BUFFER_BYTES));
        }
        match self.free.recv().await {
            Some(buffer) => Ok(buffer),
            None => Err(self.failure().await),
        }
    }

    async fn hand_over(&mut self) -> io::Result<()> {
        let full = std::mem::take(&mut self.filling);
        if self.to_hash.send(full).await.is_err() {
            return Err(self.failure().await);
        }
        Ok(())
    }

    /// Why the threads stopped early: the writer's error (a full disk, say).
    async fn failure(&mut self) -> io::Error {
        match outcome((&mut self.written).await) {
            Err(e) => e,
            Ok(()) => io::Error::other("the write pipeline stopped"),
        }
    }
}

fn outcome(done: Result<io::Result<()>, oneshot::error::RecvError>) -> io::Result<()> {
    done.unwrap_or_else(|_| Err(io::Error::other("the writing thread stopped")))
}

fn hash_then_pass(
    mut from_receiver: mpsc::Receiver<Vec<u8>>,
    to_write: std_mpsc::SyncSender<Vec<u8>>,
    done: oneshot::Sender<[u8; 32]>,
) {
    let mut hasher = Sha256::new();
    while let Some(buffer) = from_receiver.blocking_recv() {
        hasher.update(&buffer);
        if to_write.send(buffer).is_err() {
            return; // The writer failed; it reports why.
        }
    }
    let _ = done.send(hasher.finalize().into());
}

fn write_all(
    mut file: File,
    from_hasher: std_mpsc::Receiver<Vec<u8>>,
    back_to_pool: mpsc::Sender<Vec<u8>>,
    mut on_progress: impl FnMut(&File, u64),
) -> io::Result<()> {
    use std::io::Write;
    let mut offset = 0u64;
    while let Ok(mut buffer) = from_hasher.recv() {
        file.write_all(&buffer)?;
        on_progress(&file, offset + buffer.len() as u64);
        offset += buffer.len() as u64;
        buffer.clear();
        // The receiver may be gone (a cancelled upload); the buffer is then just dropped.
        let _ = back_to_pool.try_send(buffer);
    }
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pipe(chunks: &[&[u8]]) -> (Vec<u8>, [u8; 32]) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let mut pipeline = WritePipeline::start(File::create(&path).unwrap(), |_, _| {});
        for c in chunks {
            pipeline.write(c).await.unwrap();
        }
        let sha = pipeline.finish().await.unwrap();
        (std::fs::read(&path).unwrap(), sha)
    }

    #[tokio::test]
    async fn bytes_and_hash_survive_any_chunking() {
        // Chunks that straddle buffer boundaries, and more bytes than the pool holds at once.
        let data: Vec<u8> = (0..(BUFFER_BYTES * BUFFERS * 2 + 12_345))
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let chunks: Vec<&[u8]> = data.chunks(BUFFER_BYTES / 3 + 7).collect();
        let (written, sha) = pipe(&chunks).await;
        assert_eq!(written, data);
        assert_eq!(sha, <[u8; 32]>::from(Sha256::digest(&data)));
    }

    #[tokio::test]
    async fn nothing_in_gives_an_empty_file() {
        let (written, sha) = pipe(&[]).await;
        assert!(written.is_empty());
        assert_eq!(sha, <[u8; 32]>::from(Sha256::digest(b"")));
    }

    #[tokio::test]
    async fn a_write_error_is_reported_with_its_cause() {
        // A file opened read-only refuses writes: the writer's own error must come back.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro");
        std::fs::write(&path, b"").unwrap();
        let mut pipeline = WritePipeline::start(File::open(&path).unwrap(), |_, _| {});
        let mut error = None;
        for _ in 0..(BUFFERS * 4) {
            if let Err(e) = pipeline.write(&[0u8; BUFFER_BYTES]).await {
                error = Some(e);
                break;
            }
        }
        let error = match error {
            Some(e) => e,
            None => pipeline.finish().await.unwrap_err(),
        };
        assert_eq!(error.raw_os_error(), Some(libc::EBADF), "{error}");
    }
}
