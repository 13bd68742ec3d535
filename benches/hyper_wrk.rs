//! hyper 1.x "Hello, world!" under `wrk -t1 -c64` on loopback, one loop
//! against two: jsloop (`io::HyperIo`) ×1 and ×2 on each I/O driver (epoll,
//! and io_uring where the kernel offers it), tokio current-thread and
//! tokio multi-thread with 2 workers (hyper-util's `TokioIo`), the same
//! service and HTTP/1.1 builder on all of them.
//!
//! - `jsloop ×1`: one loop (`jsloop::run` on a thread of its own), one
//!   listener.
//! - `jsloop ×2`: thread-per-core, two such loops, each with its own
//!   `SO_REUSEPORT` listener on the same port (`bind_reuseport`: the first
//!   picks the port, the second joins it), so the kernel spreads the
//!   connections and no loop hands any to the other.
//! - `tokio current-thread`: a `LocalSet`, `spawn_local` per connection.
//! - `tokio multi ×2`: `new_multi_thread().worker_threads(2)`, the accept
//!   loop a task too (so the two workers are the only busy threads) and
//!   `tokio::spawn` per connection; work stealing balances them.
//!
//! `wrk -t1 -c64 -d5s` loads one server at a time, 5 rounds (plus a 1 s
//! warm-up each), the order rotating each round so drift over the run
//! falls on every server alike. Around each `wrk` run the bench reads this
//! process's CPU clock (`CLOCK_PROCESS_CPUTIME_ID`, all threads): only the
//! server under load is busy, and `wrk` is a process of its own, so the
//! difference is that server's CPU time. The table gives the median
//! requests per second, the server's CPU use in cores, and the median
//! requests per server CPU-second — the thread-per-core figure that still
//! shows on a machine with fewer free cores than loops — and the server
//! threads' voluntary context switches per 1,000 requests (from
//! `/proc/self/task`): each is a thread that found nothing to do and
//! blocked, so it tells how many requests a loop handles per sleep in its
//! poller. For `jsloop ×2` it then lists how many connections each loop
//! accepted per round: the kernel hashes each connection's addresses and
//! ports to pick a listener, so 64 connections need not split 32/32.
//!
//! Needs Debian's `wrk` on `PATH` (`apt install wrk`); without it the bench
//! says so and stops. `cargo bench -p jsloop-benches --bench hyper_wrk`
//! (about two minutes). Under `cargo test -p jsloop-benches --benches` each
//! server answers one request, as a smoke test.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use rustix::time::{ClockId, clock_gettime};

/// Loops (jsloop) and worker threads (tokio) of the scaled rows.
const LOOPS: usize = 2;
const ROUNDS: usize = 5;
const SECONDS: u32 = 5;

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"Hello, world!"))))
}

/// A server under test: its row's name, its address, and (jsloop) how many
/// connections each of its loops has accepted so far.
struct Server {
    name: String,
    addr: SocketAddr,
    accepted: Vec<Arc<AtomicU64>>,
}

/// Runs `serve` on a thread of its own; it sends back the address it
/// listens on.
fn serve_on_thread(serve: impl FnOnce(mpsc::Sender<SocketAddr>) + Send + 'static) -> SocketAddr {
    let (bound, addr) = mpsc::channel();
    std::thread::spawn(move || serve(bound));
    addr.recv().expect("the server bound its listener")
}

/// `loops` jsloop loops on one port: one plain listener, or with more
/// than one a `SO_REUSEPORT` listener each, the first on port 0 and the
/// others on the port it got.
fn jsloop_server(loops: usize, driver: jsloop::IoDriver) -> Server {
    let reuse_port = loops > 1;
    let mut addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut accepted = Vec::new();
    for _ in 0..loops {
        let count = Arc::new(AtomicU64::new(0));
        addr = jsloop_loop(addr, reuse_port, driver, count.clone());
        accepted.push(count);
    }
    let driver = match driver {
        jsloop::IoDriver::IoUring => "io_uring",
        _ => "epoll",
    };
    Server { name: format!("jsloop {driver} ×{loops}"), addr, accepted }
}

/// One jsloop loop serving hyper on `addr`, counting the connections it
/// accepts (once per connection, outside the service).
fn jsloop_loop(
    addr: SocketAddr,
    reuse_port: bool,
    driver: jsloop::IoDriver,
    accepted: Arc<AtomicU64>,
) -> SocketAddr {
    use jsloop::net::TcpListener;
    serve_on_thread(move |bound| {
        let runtime = jsloop::Runtime::builder().io_driver(driver).build().unwrap();
        runtime.run(async move {
            let listener = if reuse_port {
                TcpListener::bind_reuseport(addr).await
            } else {
                TcpListener::bind(addr).await
            };
            let listener = listener.unwrap();
            bound.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                accepted.fetch_add(1, Ordering::Relaxed);
                stream.set_nodelay(true).unwrap();
                jsloop::spawn(async move {
                    let io = jsloop::io::HyperIo::new(stream);
                    let _ = http1::Builder::new().serve_connection(io, service_fn(hello)).await;
                });
            }
        })
    })
}

/// tokio's accept loop on 127.0.0.1:0: sends back the address, then hands
/// every connection to `spawn`.
async fn tokio_accept(bound: mpsc::Sender<SocketAddr>, spawn: impl Fn(tokio::net::TcpStream)) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    bound.send(listener.local_addr().unwrap()).unwrap();
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        spawn(stream);
    }
}

/// hyper on one tokio connection.
async fn tokio_connection(stream: tokio::net::TcpStream) {
    let io = hyper_util::rt::TokioIo::new(stream);
    let _ = http1::Builder::new().serve_connection(io, service_fn(hello)).await;
}

fn tokio_current_thread() -> Server {
    let addr = serve_on_thread(|bound| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(
            &rt,
            tokio_accept(bound, |stream| {
                tokio::task::spawn_local(tokio_connection(stream));
            }),
        );
    });
    Server { name: "tokio current-thread".into(), addr, accepted: Vec::new() }
}

fn tokio_multi_thread(workers: usize) -> Server {
    let addr = serve_on_thread(move |bound| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .unwrap();
        // The accept loop runs on the workers, not on `block_on`'s thread,
        // which only waits.
        let accept = tokio_accept(bound, |stream| {
            tokio::spawn(tokio_connection(stream));
        });
        rt.block_on(rt.spawn(accept)).unwrap();
    });
    Server { name: format!("tokio multi ×{workers}"), addr, accepted: Vec::new() }
}

/// One blocking request, for the smoke run.
fn get(addr: SocketAddr) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// Voluntary context switches so far of each of this process's threads, by
/// thread id (Linux's `/proc/self/task/*/status`): how often each blocked —
/// for a loop, how often it found nothing to do and slept in its poller.
fn voluntary_switches() -> HashMap<String, u64> {
    let tasks = std::fs::read_dir("/proc/self/task").expect("Linux's /proc");
    // A thread may end between listing and reading: it is left out.
    tasks
        .flatten()
        .filter_map(|task| {
            let status = std::fs::read_to_string(task.path().join("status")).ok()?;
            let count = status.lines().find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))?;
            Some((task.file_name().into_string().ok()?, count.trim().parse().ok()?))
        })
        .collect()
}

/// CPU time of this process, all its threads, in seconds.
fn cpu_seconds() -> f64 {
    let t = clock_gettime(ClockId::ProcessCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// What one `wrk` run measured, and the server's CPU time over it.
struct Run {
    requests_per_s: f64,
    requests: f64,
    /// The run's length as `wrk` reports it.
    seconds: f64,
    cpu_seconds: f64,
    /// The server's threads' voluntary context switches.
    switches: u64,
    /// `wrk`'s "Socket errors" / "Non-2xx" lines, if any.
    errors: Vec<String>,
}

/// Loads `addr` with `wrk -t1 -c64` for `seconds`.
fn wrk(addr: SocketAddr, seconds: u32) -> Run {
    let switches_before = voluntary_switches();
    let cpu_before = cpu_seconds();
    let output = Command::new("wrk")
        .args(["-t1", "-c64", &format!("-d{seconds}s"), &format!("http://{addr}/")])
        .output()
        .expect("wrk runs");
    let cpu_seconds = cpu_seconds() - cpu_before;
    let switches = voluntary_switches()
        .iter()
        .map(|(thread, after)| after - switches_before.get(thread).unwrap_or(&0))
        .sum();
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let rate = lines.iter().find_map(|l| l.strip_prefix("Requests/sec:")).expect("wrk's rate");
    // "123456 requests in 5.00s, 10.00MB read"
    let (requests, rest) =
        lines.iter().find_map(|l| l.split_once(" requests in ")).expect("wrk's total");
    let took = rest.split(',').next().and_then(|t| t.strip_suffix('s')).expect("wrk's duration");
    Run {
        requests_per_s: rate.trim().parse().expect("a rate"),
        requests: requests.parse().expect("a count"),
        seconds: took.parse().expect("a duration"),
        cpu_seconds,
        switches,
        errors: lines
            .iter()
            .filter(|l| l.starts_with("Socket errors") || l.starts_with("Non-2xx"))
            .map(|l| l.to_string())
            .collect(),
    }
}

/// One server's figures over the rounds.
#[derive(Default)]
struct Samples {
    requests_per_s: Vec<f64>,
    per_cpu_second: Vec<f64>,
    cores: Vec<f64>,
    switches_per_1k: Vec<f64>,
    /// Per round, the connections each loop accepted (jsloop).
    accepted: Vec<Vec<u64>>,
}

impl Samples {
    fn push(&mut self, run: &Run, accepted: Vec<u64>) {
        self.requests_per_s.push(run.requests_per_s);
        self.per_cpu_second.push(run.requests / run.cpu_seconds);
        self.cores.push(run.cpu_seconds / run.seconds);
        self.switches_per_1k.push(run.switches as f64 * 1e3 / run.requests);
        self.accepted.push(accepted);
    }
}

fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// Each loop's accepted count so far.
fn accepted(server: &Server) -> Vec<u64> {
    server.accepted.iter().map(|count| count.load(Ordering::Relaxed)).collect()
}

/// Runs `wrk` on `server`, warning about errors it saw; returns the run and
/// the connections each of its loops accepted during it.
fn load(server: &Server, seconds: u32) -> (Run, Vec<u64>) {
    let before = accepted(server);
    let run = wrk(server.addr, seconds);
    for error in &run.errors {
        println!("hyper_wrk: {}: {error}", server.name);
    }
    let during =
        accepted(server).iter().zip(before).map(|(after, before)| after - before).collect();
    (run, during)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    use jsloop::IoDriver::{Epoll, IoUring};
    let mut servers = vec![
        jsloop_server(1, Epoll),
        jsloop_server(LOOPS, Epoll),
        tokio_current_thread(),
        tokio_multi_thread(LOOPS),
    ];
    let (one_loop, tokio_current, tokio_multi) = (0, 2, 3);
    // The io_uring rows, where the kernel offers the ring.
    match jsloop::Runtime::builder().io_driver(IoUring).build() {
        Ok(_) => servers.extend([jsloop_server(1, IoUring), jsloop_server(LOOPS, IoUring)]),
        Err(error) => println!("hyper_wrk: no io_uring rows here: {error}"),
    }
    if !benching {
        for server in &servers {
            assert!(get(server.addr).ends_with("Hello, world!"), "{} answered", server.name);
        }
        println!("hyper_wrk smoke run: all {} servers answered", servers.len());
        return;
    }
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("hyper_wrk: `wrk` is not on PATH (apt install wrk); skipped");
        return;
    }
    for server in &servers {
        load(server, 1); // warm-up
    }
    let mut samples: Vec<Samples> = servers.iter().map(|_| Samples::default()).collect();
    for round in 0..ROUNDS {
        for k in 0..servers.len() {
            let i = (round + k) % servers.len();
            let (run, accepted) = load(&servers[i], SECONDS);
            samples[i].push(&run, accepted);
        }
    }
    let rate: Vec<f64> = samples.iter().map(|s| median(&s.requests_per_s)).collect();
    let per_cpu: Vec<f64> = samples.iter().map(|s| median(&s.per_cpu_second)).collect();
    println!();
    println!("hyper hello world, wrk -t1 -c64 -d{SECONDS}s, median of {ROUNDS} rounds");
    println!();
    println!(
        "| server | requests/s (median) | min–max | server CPU (cores) | requests per CPU-s \
         (median) | req/s vs jsloop epoll ×1 | req/s vs tokio current-thread | req/s vs tokio \
         multi ×{LOOPS} | per CPU-s vs jsloop epoll ×1 | per CPU-s vs tokio multi ×{LOOPS} | \
         voluntary switches per 1k requests (median) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (i, server) in servers.iter().enumerate() {
        let s = &samples[i];
        let min = s.requests_per_s.iter().copied().fold(f64::MAX, f64::min);
        let max = s.requests_per_s.iter().copied().fold(0.0, f64::max);
        println!(
            "| {} | {:.0} | {min:.0}–{max:.0} | {:.2} | {:.0} | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {:.1} |",
            server.name,
            rate[i],
            median(&s.cores),
            per_cpu[i],
            rate[i] / rate[one_loop],
            rate[i] / rate[tokio_current],
            rate[i] / rate[tokio_multi],
            per_cpu[i] / per_cpu[one_loop],
            per_cpu[i] / per_cpu[tokio_multi],
            median(&s.switches_per_1k),
        );
    }
    for (server, s) in servers.iter().zip(&samples).filter(|(server, _)| server.accepted.len() > 1)
    {
        let rounds: Vec<String> = s
            .accepted
            .iter()
            .map(|split| split.iter().map(u64::to_string).collect::<Vec<_>>().join("/"))
            .collect();
        println!();
        println!(
            "{}: connections accepted per loop, each round: {}",
            server.name,
            rounds.join(", ")
        );
    }
}
