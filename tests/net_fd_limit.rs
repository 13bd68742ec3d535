//! `accept` at the descriptor limit: the error (EMFILE) comes back, a
//! caller that retries waits instead of spinning, and the listener keeps
//! working once descriptors are free. Its own test binary, because it
//! lowers the whole process's limit; the tests here take turns.

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use futures::StreamExt;
use jsloop::net::{TcpListener, TcpStream, UnixListener};
use jsloop::time::{self, Instant};
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

const EMFILE: i32 = 24;

/// A retry loop gives up after this many attempts: enough to tell a loop
/// that spins (it gets here in microseconds) from one that waits.
const SPINNING: u32 = 10_000;

/// The most accept attempts 50 ms of backoff may take. The backoff makes
/// about 8 (at 0, 1, 3, 7, 15 and 31 ms, and one per readiness event); a
/// spinning loop makes hundreds of thousands.
const AT_MOST_IN_50_MS: u32 = 50;

/// One test at a time: the limit is the process's.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn open_descriptors() -> u64 {
    // Minus the one `read_dir` itself holds open.
    std::fs::read_dir("/proc/self/fd").expect("procfs").count() as u64 - 1
}

/// Lowers the soft descriptor limit to what is open now plus `spare`, and
/// restores it when dropped (a failing assertion included).
struct LoweredLimit(Rlimit);

impl LoweredLimit {
    fn to_open_plus(spare: u64) -> LoweredLimit {
        let original = getrlimit(Resource::Nofile);
        let current = Some(open_descriptors() + spare);
        setrlimit(Resource::Nofile, Rlimit { current, maximum: original.maximum }).unwrap();
        LoweredLimit(original)
    }
}

impl Drop for LoweredLimit {
    fn drop(&mut self) {
        setrlimit(Resource::Nofile, self.0).unwrap();
    }
}

/// Calls `connect` until the process is out of descriptors; every client
/// waits in the listener's backlog, unaccepted.
fn connect_until_emfile<C>(mut connect: impl FnMut() -> io::Result<C>) -> Vec<C> {
    let mut clients = Vec::new();
    loop {
        match connect() {
            Ok(client) => clients.push(client),
            Err(error) => {
                assert_eq!(error.raw_os_error(), Some(EMFILE), "{error:?}");
                return clients;
            }
        }
    }
}

fn is_emfile(error: &io::Error) -> bool {
    error.raw_os_error() == Some(EMFILE)
}

fn virtual_runtime() -> jsloop::Runtime {
    jsloop::Runtime::builder().virtual_time(true).build().unwrap()
}

/// Accepts on `listener` until it works, as most servers do, counting the
/// attempts in `attempts`; gives up (with the last error) at `SPINNING`.
fn retry_accept(
    listener: TcpListener,
    attempts: Rc<Cell<u32>>,
) -> jsloop::JoinHandle<io::Result<()>> {
    jsloop::spawn(async move {
        loop {
            attempts.set(attempts.get() + 1);
            match listener.accept().await {
                Ok(_) => return Ok(()),
                Err(error) if is_emfile(&error) && attempts.get() < SPINNING => continue,
                Err(error) => return Err(error),
            }
        }
    })
}

#[test]
fn accept_at_the_descriptor_limit_returns_emfile_then_recovers() {
    let _turn = one_at_a_time();
    let outcome = jsloop::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let _limit = LoweredLimit::to_open_plus(8);
        let mut clients = connect_until_emfile(|| std::net::TcpStream::connect(addr));
        let emfile = listener.accept().await.map(drop).unwrap_err();
        // Free two descriptors: the next accept works.
        clients.truncate(clients.len() - 2);
        let accepted = listener.accept().await.map(drop);
        io::Result::Ok((emfile, accepted))
    });
    let (emfile, accepted) = outcome.unwrap();
    assert_eq!(emfile.raw_os_error(), Some(EMFILE), "{emfile:?}");
    accepted.unwrap();
}

#[test]
fn accept_retry_loop_at_the_descriptor_limit_waits_instead_of_spinning() {
    let _turn = one_at_a_time();
    virtual_runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _limit = LoweredLimit::to_open_plus(8);
        let mut clients = connect_until_emfile(|| std::net::TcpStream::connect(addr));
        let attempts = Rc::new(Cell::new(0));
        let server = retry_accept(listener, attempts.clone());
        time::sleep(Duration::from_millis(50)).await;
        let in_50_ms = attempts.get();
        assert!(in_50_ms < AT_MOST_IN_50_MS, "{in_50_ms} accept attempts in 50 ms: it spins");
        assert!(in_50_ms >= 2, "the retry loop never retried");
        // Closed outside jsloop: only the backoff timer can notice.
        clients.truncate(clients.len() - 2);
        let accepted = time::timeout(Duration::from_secs(5), server).await;
        accepted.expect("the pending connection was not accepted").unwrap().unwrap();
    });
}

#[test]
fn closing_a_jsloop_socket_resumes_a_paused_accept_at_once() {
    let _turn = one_at_a_time();
    virtual_runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _limit = LoweredLimit::to_open_plus(8);
        let mut clients = Vec::new();
        let error = loop {
            match TcpStream::connect(addr).await {
                Ok(client) => clients.push(client),
                Err(error) => break error,
            }
        };
        assert!(is_emfile(&error), "{error:?}");
        let attempts = Rc::new(Cell::new(0));
        let server = retry_accept(listener, attempts.clone());
        // Long enough for the backoff to reach its longest wait.
        time::sleep(Duration::from_secs(10)).await;
        let before = attempts.get();
        assert!(before < SPINNING, "{before} accept attempts: it spins");
        let closed_at = Instant::now();
        clients.truncate(clients.len() - 2);
        server.await.unwrap().unwrap();
        // Paused virtual time moves only by what the loop waits for: a
        // timer, or (io_uring) the real microseconds until the re-armed
        // `ACCEPT` completes. The backoff's timer, at its longest pause
        // now, is tens of milliseconds off: the accept did not wait for it.
        let waited = Instant::now() - closed_at;
        assert!(waited < Duration::from_millis(5), "the accept waited {waited:?}");
        // The accept already waiting took it: no error, no further attempt.
        assert_eq!(attempts.get(), before);
    });
}

#[test]
fn incoming_at_the_descriptor_limit_backs_off_then_yields_the_connection() {
    let _turn = one_at_a_time();
    let dir = std::env::temp_dir().join(format!("jsloop-fd-limit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("incoming.sock");
    let _ = std::fs::remove_file(&path);
    virtual_runtime().block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let _limit = LoweredLimit::to_open_plus(8);
        let mut clients = connect_until_emfile(|| std::os::unix::net::UnixStream::connect(&path));
        let mut incoming = listener.incoming();
        let (mut errors, until) = (0, Instant::now() + Duration::from_millis(50));
        while let Ok(item) = time::timeout_at(until, incoming.next()).await {
            let error = item.expect("`incoming` never ends").map(drop).unwrap_err();
            assert!(is_emfile(&error), "{error:?}");
            errors += 1;
            if errors == SPINNING {
                break;
            }
        }
        assert!(errors < AT_MOST_IN_50_MS, "{errors} errors from `incoming` in 50 ms: it spins");
        assert!(errors >= 2, "`incoming` never retried");
        clients.truncate(clients.len() - 2);
        let next = time::timeout(Duration::from_secs(5), incoming.next()).await;
        next.expect("the pending connection did not come").unwrap().unwrap();
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_paused_accept_on_an_unrefd_listener_does_not_keep_the_loop_alive() {
    let _turn = one_at_a_time();
    let attempts = Rc::new(Cell::new(0));
    let rt = virtual_runtime();
    let (_limit, _clients) = rt.run({
        let attempts = attempts.clone();
        async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let limit = LoweredLimit::to_open_plus(8);
            let clients = connect_until_emfile(|| std::net::TcpStream::connect(addr));
            listener.unref();
            drop(retry_accept(listener, attempts));
            (limit, clients)
        }
    });
    // `run` returned: the backoff timer did not keep the loop going.
    assert!(attempts.get() < AT_MOST_IN_50_MS, "{} accept attempts", attempts.get());
}
