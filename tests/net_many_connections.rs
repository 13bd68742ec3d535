//! 10,000 concurrent loopback TCP connections, all served. The clients run
//! in a child process (this same test binary, told so by an environment
//! variable): 20,000 descriptors in one process would exceed the usual
//! hard limit.

use std::cell::Cell;
use std::io;
use std::process::Command;
use std::rc::Rc;

use futures::{AsyncReadExt, AsyncWriteExt};
use jsloop::net::{TcpListener, TcpStream};
use jsloop::promise::Promise;
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

const CONNECTIONS: usize = 10_000;
const TEST_NAME: &str = "ten_thousand_concurrent_loopback_connections_are_all_served";
const CLIENT_MODE: &str = "JSLOOP_TEST_CLIENTS_CONNECT_TO";

/// Descriptors one side needs: a connection each, and some slack.
const NEEDED: u64 = CONNECTIONS as u64 + 100;

/// Raises the soft descriptor limit to the hard one (and the hard one, if
/// allowed, to what the test needs); whether enough is now available.
fn raise_descriptor_limit() -> bool {
    let limit = getrlimit(Resource::Nofile);
    let hard = limit.maximum.map(|hard| hard.max(NEEDED));
    if setrlimit(Resource::Nofile, Rlimit { current: hard, maximum: hard }).is_err() {
        setrlimit(Resource::Nofile, Rlimit { current: limit.maximum, maximum: limit.maximum })
            .unwrap();
    }
    getrlimit(Resource::Nofile).current.is_none_or(|soft| soft >= NEEDED)
}

#[test]
fn ten_thousand_concurrent_loopback_connections_are_all_served() {
    if !raise_descriptor_limit() {
        // Only a privileged process can raise the hard limit; say so
        // rather than fail on a machine that cannot hold the test.
        eprintln!("skipped: the hard descriptor limit is below {NEEDED} and cannot be raised");
        return;
    }
    if let Ok(addr) = std::env::var(CLIENT_MODE) {
        return run_clients(&addr);
    }
    let served = jsloop::block_on(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        // A backlog big enough for the burst (std listens with 128).
        rustix::net::listen(&listener, 4096)?;
        let listener = TcpListener::from_std(listener)?;
        let addr = listener.local_addr()?;
        let mut clients = Command::new(std::env::current_exe()?)
            .args(["--exact", TEST_NAME, "--nocapture"])
            .env(CLIENT_MODE, addr.to_string())
            .spawn()?;
        let open = Rc::new(Cell::new(0usize));
        let most_open = Rc::new(Cell::new(0usize));
        let mut handlers = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let (mut socket, _) = listener.accept().await?;
            let (open, most_open) = (open.clone(), most_open.clone());
            handlers.push(jsloop::spawn(async move {
                open.set(open.get() + 1);
                most_open.set(most_open.get().max(open.get()));
                let mut byte = [0; 1];
                socket.read_exact(&mut byte).await?;
                socket.write_all(&byte).await?;
                // Held open until the client, which holds every connection
                // until all are served, closes it.
                let mut rest = Vec::new();
                socket.read_to_end(&mut rest).await?;
                open.set(open.get() - 1);
                io::Result::Ok(())
            }));
        }
        for handler in handlers {
            handler.await.unwrap()?;
        }
        let status = jsloop::spawn_blocking(move || clients.wait()).await.unwrap()?;
        assert!(status.success(), "the client process failed: {status}");
        io::Result::Ok(most_open.get())
    });
    assert_eq!(served.unwrap(), CONNECTIONS, "every connection was open at once");
}

/// The child process: opens every connection, gets its echo, and closes
/// them all only once all have been served.
fn run_clients(addr: &str) {
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    jsloop::block_on(async move {
        let (all_served, resolve, _reject) = Promise::<(), ()>::with_resolvers();
        let served = Rc::new(Cell::new(0usize));
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|i| {
                let (all_served, resolve, served) =
                    (all_served.clone(), resolve.clone(), served.clone());
                jsloop::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await?;
                    stream.write_all(&[i as u8]).await?;
                    let mut echo = [0; 1];
                    stream.read_exact(&mut echo).await?;
                    assert_eq!(echo[0], i as u8);
                    served.set(served.get() + 1);
                    if served.get() == CONNECTIONS {
                        resolve(());
                    }
                    let _ = all_served.await;
                    io::Result::Ok(())
                })
            })
            .collect();
        drop(resolve);
        for client in clients {
            client.await.unwrap().unwrap();
        }
    });
}
