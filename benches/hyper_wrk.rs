//! hyper 1.x "Hello, world!" under `wrk -c50` on loopback: jsloop
//! (`io::HyperIo`) against tokio's current-thread runtime (hyper-util's
//! `TokioIo`), the same service and HTTP/1.1 builder on both.
//!
//! Each server runs on its own thread; `wrk -t1 -c50 -d5s` loads it, 5 rounds
//! alternating between the servers (plus a 1 s warm-up each); the table
//! gives the median requests per second. Needs Debian's `wrk` on `PATH`
//! (`apt install wrk`); without it the bench says so and stops.
//!
//! `cargo bench --bench hyper_wrk --features hyper` (about a minute).
//! Under `cargo test --benches --features hyper` each server answers one
//! request, as a smoke test.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::Command;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"Hello, world!"))))
}

/// Starts the jsloop server on its own thread; returns its address.
fn jsloop_server() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        jsloop::run(async move {
            let listener = jsloop::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                jsloop::spawn(async move {
                    let io = jsloop::io::HyperIo::new(stream);
                    let _ = http1::Builder::new().serve_connection(io, service_fn(hello)).await;
                });
            }
        })
    });
    rx.recv().unwrap()
}

/// Starts the tokio current-thread server on its own thread.
fn tokio_server() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                tokio::task::spawn_local(async move {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = http1::Builder::new().serve_connection(io, service_fn(hello)).await;
                });
            }
        })
    });
    rx.recv().unwrap()
}

/// One blocking request, for the smoke run.
fn get(addr: SocketAddr) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// Requests per second that `wrk` reports for `seconds` of load.
fn wrk(addr: SocketAddr, seconds: u32) -> f64 {
    let output = Command::new("wrk")
        .args(["-t1", "-c50", &format!("-d{seconds}s"), &format!("http://{addr}/")])
        .output()
        .expect("wrk runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().find(|l| l.starts_with("Requests/sec:")).expect("wrk's summary");
    line["Requests/sec:".len()..].trim().parse().expect("a number")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    let servers = [("jsloop", jsloop_server()), ("tokio", tokio_server())];
    if !benching {
        for (name, addr) in servers {
            assert!(get(addr).ends_with("Hello, world!"), "{name} answered");
        }
        println!("hyper_wrk smoke run: both servers answered");
        return;
    }
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("hyper_wrk: `wrk` is not on PATH (apt install wrk); skipped");
        return;
    }
    for (_, addr) in servers {
        wrk(addr, 1); // warm-up
    }
    let mut results = [Vec::new(), Vec::new()];
    for _ in 0..5 {
        for (i, (_, addr)) in servers.iter().enumerate() {
            results[i].push(wrk(*addr, 5));
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let medians: Vec<f64> = results.iter_mut().map(median).collect();
    println!();
    println!("hyper hello world, wrk -t1 -c50 -d5s, median of 5 rounds");
    println!();
    println!("| server | requests/s (median) | min–max | jsloop / server |");
    println!("|---|---:|---:|---:|");
    for (i, (name, _)) in servers.iter().enumerate() {
        let min = results[i].iter().copied().fold(f64::MAX, f64::min);
        let max = results[i].iter().copied().fold(0.0, f64::max);
        println!(
            "| {name} | {:.0} | {min:.0}–{max:.0} | {:.2}x |",
            medians[i],
            medians[0] / medians[i]
        );
    }
}
