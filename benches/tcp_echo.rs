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
//! `cargo bench -p jsloop-benches --bench tcp_echo` (about half a minute; add `-- tokio` to
//! run one runtime alone, e.g. under `strace -c`). Under `cargo test
//! --benches` every runtime runs a tiny workload once, as a smoke test.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

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

fn async_io_round(w: &Workload) -> Duration {
    use async_io::Async;
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    use std::net::{TcpListener, TcpStream};
    let ex = std::rc::Rc::new(async_executor::LocalExecutor::new());
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

// --- the rounds -------------------------------------------------------------

const NAMES: [&str; 6] =
    ["jsloop-epoll", "jsloop-io_uring", "tokio", "async-io", "monoio-io_uring", "monoio-epoll"];

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    // `cargo bench -p jsloop-benches --bench tcp_echo -- tokio`: one runtime only (for
    // `strace -c`, say).
    let only = args.iter().find(|a| !a.starts_with('-')).cloned();
    let (w, mut rounds) = if benching { (FULL, 7) } else { (SMOKE, 1) };
    // `TCP_ECHO_ROUNDS=1`: fewer measured rounds (under strace, say).
    if let Some(n) = std::env::var("TCP_ECHO_ROUNDS").ok().and_then(|n| n.parse().ok()) {
        rounds = n;
    }
    use jsloop::IoDriver;
    let js_epoll = jsloop::Runtime::builder().io_driver(IoDriver::Epoll).build()?;
    let js_uring = jsloop::Runtime::builder().io_driver(IoDriver::IoUring).build();
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut monoio_uring =
        monoio::RuntimeBuilder::<monoio::IoUringDriver>::new().enable_timer().build();
    let mut monoio_epoll =
        monoio::RuntimeBuilder::<monoio::LegacyDriver>::new().enable_timer().build()?;
    let available = [true, js_uring.is_ok(), true, true, monoio_uring.is_ok(), true];
    let mut run = |runtime: usize| match runtime {
        0 => jsloop_round(&js_epoll, &w),
        1 => jsloop_round(js_uring.as_ref().unwrap(), &w),
        2 => tokio_round(&tokio, &w),
        3 => async_io_round(&w),
        4 => monoio_round(monoio_uring.as_mut().unwrap(), &w),
        _ => monoio_round(&mut monoio_epoll, &w),
    };
    let mut per_second: [Vec<f64>; 6] = Default::default();
    for round in 0..=rounds {
        for (runtime, results) in per_second.iter_mut().enumerate() {
            if !available[runtime] || only.as_deref().is_some_and(|only| only != NAMES[runtime]) {
                results.push(f64::NAN);
                continue;
            }
            let elapsed = run(runtime);
            if round > 0 || !benching {
                let total = (w.connections * w.round_trips) as f64;
                results.push(total / elapsed.as_secs_f64());
            }
        }
    }
    if !benching {
        println!("tcp_echo smoke run: every runtime echoed {} round trips", w.round_trips);
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
    let medians: Vec<f64> = per_second.iter_mut().map(|r| median(r)).collect();
    for (runtime, ok) in available.iter().enumerate() {
        if !ok {
            println!("{}: unavailable here, left out", NAMES[runtime]);
        }
    }
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
        let (min, max) =
            per_second[i].iter().fold((f64::MAX, 0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        println!(
            "| {name} | {:.0} | {:.0}–{:.0} | {:.2}x | {:.2}x |",
            medians[i],
            min,
            max,
            medians[0] / medians[i],
            medians[1] / medians[i]
        );
    }
    Ok(())
}
