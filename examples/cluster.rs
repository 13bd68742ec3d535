//! Thread-per-core HTTP: the hello server of `http_hello` run as N workers,
//! each a loop on its own thread with its own `SO_REUSEPORT` listener on the
//! same port (the kernel spreads connections over them). After the given
//! time the parent prints each worker's request count and terminates them.
//!
//! ```sh
//! cargo run --release --example cluster -- [workers] [seconds] [addr]
//! # defaults: available parallelism, 10 s, 127.0.0.1:8080; then, elsewhere:
//! wrk -t1 -c64 -d8s http://127.0.0.1:8080/
//! ```

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use jsloop::net::TcpListener;
use jsloop::worker::Worker;

mod common;

/// One worker's server: bind `addr` with `SO_REUSEPORT`, report the bound
/// address, serve until terminated, counting requests.
async fn serve(
    addr: SocketAddr,
    bound: std::sync::mpsc::Sender<SocketAddr>,
    requests: Arc<AtomicU64>,
) -> io::Result<()> {
    let listener = TcpListener::bind_reuseport(addr).await?;
    let _ = bound.send(listener.local_addr()?);
    let mut incoming = listener.incoming();
    while let Some(stream) = incoming.next().await {
        let stream = stream?;
        stream.set_nodelay(true)?;
        let requests = requests.clone();
        jsloop::spawn(async move {
            let count = || {
                requests.fetch_add(1, Ordering::Relaxed);
            };
            if let Err(error) = common::serve_connection(stream, count).await {
                eprintln!("connection failed: {error}");
            }
        });
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let workers: usize = match args.next() {
        Some(n) => n.parse().map_err(|_| io::Error::other("workers: a number"))?,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let seconds: u64 = match args.next() {
        Some(n) => n.parse().map_err(|_| io::Error::other("seconds: a number"))?,
        None => 10,
    };
    let addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:8080".into())
        .parse()
        .map_err(|_| io::Error::other("addr: host:port"))?;
    jsloop::block_on(async move {
        let mut addr = addr;
        let mut running = Vec::new();
        for n in 0..workers {
            let requests = Arc::new(AtomicU64::new(0));
            let (bound_tx, bound_rx) = std::sync::mpsc::channel();
            let worker = Worker::builder().name(format!("worker-{n}")).spawn({
                let requests = requests.clone();
                move || serve(addr, bound_tx, requests)
            })?;
            // The first worker may have picked the port (":0"): the others
            // join it there.
            addr = bound_rx.recv().map_err(|_| io::Error::other("a worker failed to bind"))?;
            running.push((worker, requests));
        }
        println!("{workers} worker(s) serving http://{addr} for {seconds} s");
        jsloop::time::sleep(Duration::from_secs(seconds)).await;
        let mut total = 0;
        for (n, (worker, requests)) in running.into_iter().enumerate() {
            let count = requests.load(Ordering::Relaxed);
            total += count;
            println!("worker-{n}: {count} requests");
            worker.terminate();
            match worker.exit().await {
                Ok(Err(error)) => eprintln!("worker-{n} failed: {error}"),
                Err(error) if !error.is_terminated() => eprintln!("worker-{n}: {error}"),
                _ => {}
            }
        }
        println!("total: {total} requests");
        Ok(())
    })
}
