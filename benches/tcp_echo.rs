//! TCP echo on 127.0.0.1: 50 connections × 2,000 round trips × 64 bytes,
//! client and server on one thread, for jsloop on each of its I/O drivers
//! (epoll, io_uring), tokio (current-thread), async-io (on async-executor's
//! `LocalExecutor`) and monoio on each of its drivers (io_uring, and its
//! epoll `LegacyDriver`). A driver the kernel refuses is left out.
//!
//! Each runtime runs the same workload: a listener accepts 50 connections
//! and echoes each on its own task (read up to 64 bytes, write them back);
//! 50 client tasks each write 64 bytes and read the 64-byte echo, 2,000
//! times. `TCP_NODELAY` on every socket. One round is the whole workload on
//! a fresh listener; rounds alternate between the runtimes (so load drift
//! hits all alike), one warm-up round each, then 7 measured. The table
//! gives the median round trips per second and jsloop's ratio to each.
//!
//! **Idle connections.** Then, one runtime at a time, 10,000 idle
//! connections (`TCP_ECHO_IDLE=N` for another count, 0 to skip): a child
//! process (this bench again, so the client ends count against its own
//! descriptor limit) connects N plain blocking sockets to a listener on the
//! runtime, which
//! accepts each and parks a task in a 64-byte read that never completes
//! (monoio's owned-buffer read holds a 64-byte `Vec`; the others a
//! 64-byte array in the task). The counting global allocator gives the
//! live heap bytes the runtime added per idle connection (kernel memory,
//! socket buffers and io_uring requests, is not in the figure). With the idle connections still open,
//! the echo workload runs the same number of rounds again, and the table
//! sets its median beside the one without them.
//!
//! `cargo bench -p jsloop-benches --bench tcp_echo` (about half a minute; add `-- tokio` to
//! run one runtime alone, e.g. under `strace -c`). Under `cargo test
//! --benches` every runtime runs a tiny workload once, as a smoke test.

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod common;

use common::counting::{Counting, live_bytes};

#[global_allocator]
static GLOBAL: Counting = Counting;

const MESSAGE: usize = 64;

struct Workload {
    connections: usize,
    round_trips: usize,
}

const FULL: Workload = Workload { connections: 50, round_trips: 2_000 };
const SMOKE: Workload = Workload { connections: 2, round_trips: 10 };

// --- jsloop and tokio ----------------------------------------------------

/// The workload for runtimes with tokio-shaped APIs: `$spawn`, and the
/// `TcpListener` / `TcpStream` and read / write traits imported where the
/// macro is used. Returns the clients' time.
macro_rules! echo_workload {
    ($w:expr_2021, $spawn:path) => {
        async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let connections = $w.connections;
            let server = $spawn(async move {
                for _ in 0..connections {
                    let (mut socket, _) = listener.accept().await.unwrap();
                    socket.set_nodelay(true).unwrap();
                    $spawn(async move {
                        let mut buf = [0; MESSAGE];
                        loop {
                            let n = socket.read(&mut buf).await.unwrap();
                            if n == 0 {
                                break;
                            }
                            socket.write_all(&buf[..n]).await.unwrap();
                        }
                    });
                }
            });
            let start = Instant::now();
            let clients: Vec<_> = (0..$w.connections)
                .map(|_| {
                    let round_trips = $w.round_trips;
                    $spawn(async move {
                        let mut stream = TcpStream::connect(addr).await.unwrap();
                        stream.set_nodelay(true).unwrap();
                        let mut buf = [7; MESSAGE];
                        for _ in 0..round_trips {
                            stream.write_all(&buf).await.unwrap();
                            stream.read_exact(&mut buf).await.unwrap();
                        }
                    })
                })
                .collect();
            for client in clients {
                client.await.unwrap();
            }
            let elapsed = start.elapsed();
            server.await.unwrap();
            elapsed
        }
    };
}

fn jsloop_round(rt: &jsloop::Runtime, w: &Workload) -> Duration {
    use futures::{AsyncReadExt, AsyncWriteExt};
    use jsloop::net::{TcpListener, TcpStream};
    rt.block_on(echo_workload!(w, jsloop::spawn))
}

fn tokio_round(rt: &tokio::runtime::Runtime, w: &Workload) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    tokio::task::LocalSet::new().block_on(rt, echo_workload!(w, tokio::task::spawn_local))
}

// --- async-io ---------------------------------------------------------------

fn async_io_round(ex: &Rc<async_executor::LocalExecutor<'static>>, w: &Workload) -> Duration {
    use async_io::Async;
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    use std::net::{TcpListener, TcpStream};
    let spawner = ex.clone();
    async_io::block_on(ex.run(async move {
        let ex = spawner;
        let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
        let addr = listener.get_ref().local_addr().unwrap();
        let connections = w.connections;
        let inner = ex.clone();
        let server = ex.spawn(async move {
            for _ in 0..connections {
                let (mut socket, _) = listener.accept().await.unwrap();
                socket.get_ref().set_nodelay(true).unwrap();
                inner
                    .spawn(async move {
                        let mut buf = [0; MESSAGE];
                        loop {
                            let n = socket.read(&mut buf).await.unwrap();
                            if n == 0 {
                                break;
                            }
                            socket.write_all(&buf[..n]).await.unwrap();
                        }
                    })
                    .detach();
            }
        });
        let start = Instant::now();
        let clients: Vec<_> = (0..w.connections)
            .map(|_| {
                let round_trips = w.round_trips;
                ex.spawn(async move {
                    let mut stream = Async::<TcpStream>::connect(addr).await.unwrap();
                    stream.get_ref().set_nodelay(true).unwrap();
                    let mut buf = [7; MESSAGE];
                    for _ in 0..round_trips {
                        stream.write_all(&buf).await.unwrap();
                        stream.read_exact(&mut buf).await.unwrap();
                    }
                })
            })
            .collect();
        for client in clients {
            client.await;
        }
        let elapsed = start.elapsed();
        server.await;
        elapsed
    }))
}

// --- monoio -----------------------------------------------------------------

/// The workload on a monoio runtime of either driver.
fn monoio_round<D: monoio::Driver>(rt: &mut monoio::Runtime<D>, w: &Workload) -> Duration {
    use monoio::io::{AsyncReadRent, AsyncReadRentExt, AsyncWriteRentExt};
    use monoio::net::{TcpListener, TcpStream};
    let connections = w.connections;
    let round_trips = w.round_trips;
    rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let server = monoio::spawn(async move {
            for _ in 0..connections {
                let (mut socket, _) = listener.accept().await.unwrap();
                socket.set_nodelay(true).unwrap();
                monoio::spawn(async move {
                    let mut buf = vec![0u8; MESSAGE];
                    loop {
                        let (read, b) = socket.read(buf).await;
                        let n = read.unwrap();
                        if n == 0 {
                            break;
                        }
                        let (written, b) = socket.write_all(b).await;
                        written.unwrap();
                        buf = b;
                    }
                });
            }
        });
        let start = Instant::now();
        let clients: Vec<_> = (0..connections)
            .map(|_| {
                monoio::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    let mut buf = vec![7u8; MESSAGE];
                    for _ in 0..round_trips {
                        let (written, b) = stream.write_all(buf).await;
                        written.unwrap();
                        let (read, b) = stream.read_exact(b).await;
                        read.unwrap();
                        buf = b;
                    }
                })
            })
            .collect();
        for client in clients {
            client.await;
        }
        let elapsed = start.elapsed();
        server.await;
        elapsed
    })
}

// --- idle connections -------------------------------------------------------

/// Idle connections whose task has parked in its read.
static PARKED: AtomicUsize = AtomicUsize::new(0);

/// Set in the environment of the process that holds the client ends:
/// `<address> <count>`.
const IDLE_CLIENT: &str = "TCP_ECHO_IDLE_CLIENT";

/// The client ends of idle connections, in a process of their own (this
/// bench re-run with `IDLE_CLIENT` set), so their descriptors count against
/// its limit, not the server's. Dropped: the process closes them and ends.
struct IdleClients(std::process::Child);

/// Starts connecting `n` sockets to `addr` (the runtime accepts meanwhile).
fn connect_idle(addr: SocketAddr, n: usize) -> IdleClients {
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .env(IDLE_CLIENT, format!("{addr} {n}"))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    IdleClients(child)
}

impl Drop for IdleClients {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

/// The client process: connects, then holds the sockets until its stdin
/// closes.
fn hold_idle_clients(spec: &str) -> io::Result<()> {
    let (addr, n) = spec.split_once(' ').expect("<address> <count>");
    let addr: SocketAddr = addr.parse().expect("an address");
    let n: usize = n.parse().expect("a count");
    raise_descriptor_limit(n)?;
    let clients: Vec<_> =
        (0..n).map(|_| std::net::TcpStream::connect(addr)).collect::<io::Result<_>>()?;
    let _ = io::Read::read_to_end(&mut io::stdin(), &mut Vec::new());
    drop(clients);
    Ok(())
}

/// For runtimes with tokio-shaped APIs: accepts `$n` connections, parks a
/// task in a read on each, and returns the client sockets once every task
/// is parked. The read's trait is imported where the macro is used.
macro_rules! idle_server {
    ($n:expr_2021, $spawn:path, $sleep:path) => {
        async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let clients = connect_idle(listener.local_addr().unwrap(), $n);
            for _ in 0..$n {
                let (mut socket, _) = listener.accept().await.unwrap();
                $spawn(async move {
                    PARKED.fetch_add(1, Ordering::Relaxed);
                    let mut buf = [0; MESSAGE];
                    let _ = socket.read(&mut buf).await;
                    PARKED.fetch_sub(1, Ordering::Relaxed);
                });
            }
            while PARKED.load(Ordering::Relaxed) < $n {
                $sleep(Duration::from_millis(1)).await;
            }
            clients
        }
    };
}

/// Waits until every parked task has seen its connection's end.
macro_rules! idle_ended {
    ($sleep:path) => {
        async {
            while PARKED.load(Ordering::Relaxed) > 0 {
                $sleep(Duration::from_millis(1)).await;
            }
        }
    };
}

fn jsloop_idle(rt: &jsloop::Runtime, n: usize) -> IdleClients {
    use futures::AsyncReadExt;
    use jsloop::net::TcpListener;
    rt.block_on(idle_server!(n, jsloop::spawn, jsloop::time::sleep))
}

fn tokio_idle(rt: &tokio::runtime::Runtime, n: usize) -> IdleClients {
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;
    rt.block_on(idle_server!(n, tokio::spawn, tokio::time::sleep))
}

async fn async_io_sleep(duration: Duration) {
    async_io::Timer::after(duration).await;
}

fn async_io_idle(ex: &Rc<async_executor::LocalExecutor<'static>>, n: usize) -> IdleClients {
    use async_io::Async;
    use futures_lite::AsyncReadExt;
    let spawn = |task| ex.spawn(task).detach();
    async_io::block_on(ex.run(async {
        let listener = Async::<std::net::TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
        let clients = connect_idle(listener.get_ref().local_addr().unwrap(), n);
        for _ in 0..n {
            let (mut socket, _) = listener.accept().await.unwrap();
            spawn(async move {
                PARKED.fetch_add(1, Ordering::Relaxed);
                let mut buf = [0; MESSAGE];
                let _ = socket.read(&mut buf).await;
                PARKED.fetch_sub(1, Ordering::Relaxed);
            });
        }
        while PARKED.load(Ordering::Relaxed) < n {
            async_io_sleep(Duration::from_millis(1)).await;
        }
        clients
    }))
}

fn monoio_idle<D: monoio::Driver>(rt: &mut monoio::Runtime<D>, n: usize) -> IdleClients {
    use monoio::io::AsyncReadRent;
    rt.block_on(async move {
        let listener = monoio::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let clients = connect_idle(listener.local_addr().unwrap(), n);
        for _ in 0..n {
            let (mut socket, _) = listener.accept().await.unwrap();
            monoio::spawn(async move {
                PARKED.fetch_add(1, Ordering::Relaxed);
                let _ = socket.read(vec![0u8; MESSAGE]).await;
                PARKED.fetch_sub(1, Ordering::Relaxed);
            });
        }
        while PARKED.load(Ordering::Relaxed) < n {
            monoio::time::sleep(Duration::from_millis(1)).await;
        }
        clients
    })
}

// --- the rounds -------------------------------------------------------------

const NAMES: [&str; 6] =
    ["jsloop-epoll", "jsloop-io_uring", "tokio", "async-io", "monoio-io_uring", "monoio-epoll"];

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// One of each runtime (and driver), kept across rounds.
struct Runtimes {
    js_epoll: jsloop::Runtime,
    js_uring: io::Result<jsloop::Runtime>,
    tokio: tokio::runtime::Runtime,
    async_io: Rc<async_executor::LocalExecutor<'static>>,
    monoio_uring: io::Result<monoio::Runtime<monoio::time::TimeDriver<monoio::IoUringDriver>>>,
    monoio_epoll: monoio::Runtime<monoio::time::TimeDriver<monoio::LegacyDriver>>,
}

impl Runtimes {
    fn new() -> io::Result<Runtimes> {
        use jsloop::IoDriver;
        Ok(Runtimes {
            js_epoll: jsloop::Runtime::builder().io_driver(IoDriver::Epoll).build()?,
            js_uring: jsloop::Runtime::builder().io_driver(IoDriver::IoUring).build(),
            tokio: tokio::runtime::Builder::new_current_thread().enable_all().build()?,
            async_io: Rc::new(async_executor::LocalExecutor::new()),
            monoio_uring: monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
                .enable_timer()
                .build(),
            monoio_epoll: monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
                .enable_timer()
                .build()?,
        })
    }

    fn available(&self, runtime: usize) -> bool {
        match runtime {
            1 => self.js_uring.is_ok(),
            4 => self.monoio_uring.is_ok(),
            _ => true,
        }
    }

    /// One round of the echo workload on `runtime` (an index into `NAMES`).
    fn echo(&mut self, runtime: usize, w: &Workload) -> Duration {
        match runtime {
            0 => jsloop_round(&self.js_epoll, w),
            1 => jsloop_round(self.js_uring.as_ref().unwrap(), w),
            2 => tokio_round(&self.tokio, w),
            3 => async_io_round(&self.async_io, w),
            4 => monoio_round(self.monoio_uring.as_mut().unwrap(), w),
            _ => monoio_round(&mut self.monoio_epoll, w),
        }
    }

    /// Opens `n` idle connections to `runtime`; returns their client ends.
    fn hold_idle(&mut self, runtime: usize, n: usize) -> IdleClients {
        match runtime {
            0 => jsloop_idle(&self.js_epoll, n),
            1 => jsloop_idle(self.js_uring.as_ref().unwrap(), n),
            2 => tokio_idle(&self.tokio, n),
            3 => async_io_idle(&self.async_io, n),
            4 => monoio_idle(self.monoio_uring.as_mut().unwrap(), n),
            _ => monoio_idle(&mut self.monoio_epoll, n),
        }
    }

    /// Runs `runtime` until the tasks of its closed idle connections end
    /// (so their descriptors are free for the next runtime's).
    fn end_idle(&mut self, runtime: usize) {
        match runtime {
            0 => self.js_epoll.block_on(idle_ended!(jsloop::time::sleep)),
            1 => self.js_uring.as_ref().unwrap().block_on(idle_ended!(jsloop::time::sleep)),
            2 => self.tokio.block_on(idle_ended!(tokio::time::sleep)),
            3 => async_io::block_on(self.async_io.run(idle_ended!(async_io_sleep))),
            4 => self.monoio_uring.as_mut().unwrap().block_on(idle_ended!(monoio::time::sleep)),
            _ => self.monoio_epoll.block_on(idle_ended!(monoio::time::sleep)),
        }
    }
}

/// Raises the soft descriptor limit to the hard one, and the hard one too
/// where allowed, to what one end of `n` idle connections takes.
fn raise_descriptor_limit(n: usize) -> io::Result<()> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let needed = n as u64 + 1_000;
    let limit = getrlimit(Resource::Nofile);
    let raised = limit.maximum.map(|hard| hard.max(needed));
    if setrlimit(Resource::Nofile, Rlimit { current: raised, maximum: raised }).is_err() {
        setrlimit(Resource::Nofile, Rlimit { current: limit.maximum, maximum: limit.maximum })?;
    }
    match getrlimit(Resource::Nofile).current {
        Some(soft) if soft < needed => Err(io::Error::other(format!(
            "{n} idle connections need {needed} descriptors; the limit is {soft} \
             (set TCP_ECHO_IDLE lower)"
        ))),
        _ => Ok(()),
    }
}

fn env_count(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|n| n.parse().ok())
}

/// Median and range of `values`.
fn summary(values: &mut [f64]) -> (f64, f64, f64) {
    let (min, max) = values.iter().fold((f64::MAX, 0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    (median(values), min, max)
}

fn main() -> io::Result<()> {
    if let Ok(spec) = std::env::var(IDLE_CLIENT) {
        return hold_idle_clients(&spec);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    // `cargo bench -p jsloop-benches --bench tcp_echo -- tokio`: one runtime only (for
    // `strace -c`, say).
    let only = args.iter().find(|a| !a.starts_with('-')).cloned();
    let (w, mut rounds, mut idle) = if benching { (FULL, 7, 10_000) } else { (SMOKE, 1, 20) };
    // `TCP_ECHO_ROUNDS=1`: fewer measured rounds (under strace, say).
    if let Some(n) = env_count("TCP_ECHO_ROUNDS") {
        rounds = n;
    }
    if let Some(n) = env_count("TCP_ECHO_IDLE") {
        idle = n;
    }
    let mut runtimes = Runtimes::new()?;
    let available: Vec<bool> = (0..NAMES.len()).map(|r| runtimes.available(r)).collect();
    let selected: Vec<bool> = (0..NAMES.len())
        .map(|r| available[r] && only.as_deref().is_none_or(|only| only == NAMES[r]))
        .collect();
    let total = (w.connections * w.round_trips) as f64;
    let mut per_second: [Vec<f64>; 6] = Default::default();
    for round in 0..=rounds {
        for (runtime, results) in per_second.iter_mut().enumerate() {
            if !selected[runtime] {
                results.push(f64::NAN);
                continue;
            }
            let elapsed = runtimes.echo(runtime, &w);
            if round > 0 || !benching {
                results.push(total / elapsed.as_secs_f64());
            }
        }
    }
    // With `idle` connections open, one runtime at a time (each holds
    // `idle` descriptors): heap bytes per idle connection, and the echo
    // rounds again.
    let mut idle_bytes = [f64::NAN; 6];
    let mut idle_per_second: [Vec<f64>; 6] = Default::default();
    if idle > 0 {
        raise_descriptor_limit(idle)?;
        for runtime in (0..NAMES.len()).filter(|&r| selected[r]) {
            let before = live_bytes();
            let clients = runtimes.hold_idle(runtime, idle);
            idle_bytes[runtime] = (live_bytes() - before) as f64 / idle as f64;
            for _ in 0..rounds {
                let elapsed = runtimes.echo(runtime, &w);
                idle_per_second[runtime].push(total / elapsed.as_secs_f64());
            }
            drop(clients);
            runtimes.end_idle(runtime);
        }
    }
    if !benching {
        println!(
            "tcp_echo smoke run: every runtime echoed {} round trips, also beside {idle} idle connections",
            w.round_trips
        );
        return Ok(());
    }
    if let Some(only) = only {
        let mut results =
            per_second.into_iter().flatten().filter(|v| !v.is_nan()).collect::<Vec<_>>();
        if !results.is_empty() {
            println!("{only}: {:.0} round trips/s (median)", median(&mut results));
        }
        return Ok(());
    }
    for (runtime, ok) in available.iter().enumerate() {
        if !ok {
            println!("{}: unavailable here, left out", NAMES[runtime]);
        }
    }
    let medians: Vec<(f64, f64, f64)> = per_second.iter_mut().map(|r| summary(r)).collect();
    println!();
    println!(
        "TCP echo, {} connections x {} round trips x {MESSAGE} B, one thread; median of {rounds} rounds",
        w.connections, w.round_trips
    );
    println!();
    println!(
        "| runtime | round trips/s (median) | min–max | jsloop-epoll / it | jsloop-io_uring / it |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (i, name) in NAMES.iter().enumerate() {
        let (median, min, max) = medians[i];
        println!(
            "| {name} | {median:.0} | {min:.0}–{max:.0} | {:.2}x | {:.2}x |",
            medians[0].0 / median,
            medians[1].0 / median
        );
    }
    if idle == 0 {
        return Ok(());
    }
    println!();
    println!("The same echo beside {idle} idle connections; median of {rounds} rounds");
    println!();
    println!(
        "| runtime | heap B / idle connection | round trips/s (median) | min–max | / without idle |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (i, name) in NAMES.iter().enumerate() {
        if idle_per_second[i].is_empty() {
            continue;
        }
        let (median, min, max) = summary(&mut idle_per_second[i]);
        println!(
            "| {name} | {:.0} | {median:.0} | {min:.0}–{max:.0} | {:.2}x |",
            idle_bytes[i],
            median / medians[i].0
        );
    }
    Ok(())
}
