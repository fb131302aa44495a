//! moto's standalone server (an S3-compatible fake from PyPI) started for one test and stopped
//! when the handle is dropped. Self-contained: only the standard library.
//!
//! Needs `python3 -m pip install 'moto[server]==5.2.5'`. When moto cannot be imported the test
//! fails with that instruction rather than passing without having tested anything. Set
//! `MOTO_PYTHON` to use another interpreter (a virtualenv's python, say).

use std::{
    fs,
    io::{Read, Write},
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

const INSTALL_HINT: &str = "moto's S3 server is needed for this test; install it with \
                            `python3 -m pip install 'moto[server]==5.2.5'`";
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Exit code the launcher uses when moto is not importable.
const MISSING_EXIT: i32 = 3;
/// Tells apart the logs of the servers one test process starts.
static NEXT_LOG: AtomicU32 = AtomicU32::new(0);

/// Runs moto's server and, in a side thread, waits for stdin to close: stdin is a pipe from the
/// test process, so moto goes away even when the test process dies without running `Drop`.
const LAUNCHER: &str = r#"
import os, sys, threading
try:
    import flask, flask_cors
    from moto.server import main
except ImportError as e:
    sys.stderr.write("moto is not importable: %s\n" % e)
    sys.exit(3)

def exit_when_parent_goes():
    sys.stdin.read()
    os._exit(0)

threading.Thread(target=exit_when_parent_goes, daemon=True).start()
main(["-H", "127.0.0.1", "-p", sys.argv[1]])
"#;

pub struct MotoServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl MotoServer {
    /// Starts a fresh server on a port of its own and waits until it answers HTTP.
    ///
    /// moto binds port 0 and the port is read from its log: a port found free here and handed
    /// over could be taken by another test's server before moto binds it, and this test would
    /// then talk to that server.
    pub fn start() -> MotoServer {
        let python = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".to_string());
        let log = std::env::temp_dir().join(format!(
            "moto-{}-{}.log",
            std::process::id(),
            NEXT_LOG.fetch_add(1, Ordering::Relaxed)
        ));
        let log_file = fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        // The log goes to a file, not a pipe: moto logs every request, and an undrained pipe
        // would fill and freeze it.
        let child = Command::new(&python)
            .args(["-c", LAUNCHER, "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `{python}` ({e}). {INSTALL_HINT}"));
        let mut server = MotoServer {
            child,
            port: 0,
            log,
        };
        if let Err(failure) = server.wait_until_ready() {
            panic!("moto's server did not start: {failure}");
        }
        server
    }

    /// `http://127.0.0.1:PORT`, for `S3_ENDPOINT` (path-style addressing).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_until_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = fs::read_to_string(&self.log).unwrap_or_default();
                if status.code() == Some(MISSING_EXIT) {
                    panic!("{INSTALL_HINT}\n{log}");
                }
                return Err(format!("moto exited with {status}:\n{log}"));
            }
            if self.port == 0 {
                self.port = listening_port(&fs::read_to_string(&self.log).unwrap_or_default());
            }
            if self.port != 0 && answers_http(self.port) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no answer on port {} within {START_TIMEOUT:?}",
                    self.port
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.log);
    }
}

/// The port in werkzeug's " * Running on http://127.0.0.1:PORT" line, or 0 before it is logged.
fn listening_port(log: &str) -> u16 {
    log.lines()
        .find_map(|line| line.split_once("Running on http://127.0.0.1:"))
        .and_then(|(_, rest)| rest.trim().parse().ok())
        .unwrap_or(0)
}

fn answers_http(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}
