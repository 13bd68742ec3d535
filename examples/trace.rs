//! A traced server-and-timers program.
//!
//! `cargo run --example trace [PATH]` runs a TCP echo server and a client
//! doing a few round trips, beside an interval, an immediate and a
//! worker-pool job, and writes the loop's trace to PATH (default
//! `trace.json`). Open it at <https://ui.perfetto.dev> (Open trace file) or
//! in `chrome://tracing`: the event loop's track shows each iteration and
//! phase, every callback and task poll in them, arrows from each wake to
//! the poll it caused, the idle waits in the poller and the queue depths;
//! the worker's track shows the job.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use futures::{AsyncBufReadExt, AsyncWriteExt, StreamExt};
use jsloop::net::{TcpListener, TcpStream};

/// Echoes one connection back to itself until the client closes it.
async fn serve(listener: TcpListener) -> io::Result<u64> {
    let (socket, _) = listener.accept().await?;
    futures::io::copy(&socket, &mut &socket).await
}

/// Sends a few lines, each awaited back: a round trip through the poll
/// phase every time.
async fn client(addr: SocketAddr) -> io::Result<()> {
    let stream = TcpStream::connect(addr).await?;
    let mut lines = futures::io::BufReader::new(&stream).lines();
    for message in ["hello", "event loop", "trace me", "bye"] {
        (&stream).write_all(format!("{message}\n").as_bytes()).await?;
        let echoed = lines.next().await.expect("the server answers")?;
        println!("client: sent {message:?}, got {echoed:?}");
        jsloop::time::sleep(Duration::from_millis(3)).await;
    }
    (&stream).close().await
}

/// Ticks a few times, then clears itself.
fn start_interval() {
    let timer = Rc::new(RefCell::new(None));
    let ticks = Cell::new(0);
    let handle = jsloop::set_interval(Duration::from_millis(4), {
        let timer = timer.clone();
        move || {
            ticks.set(ticks.get() + 1);
            println!("interval: tick {}", ticks.get());
            if ticks.get() == 4 {
                if let Some(timer) = timer.borrow_mut().take() {
                    jsloop::clear_interval(&timer);
                }
            }
        }
    });
    *timer.borrow_mut() = Some(handle);
}

fn main() -> io::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "trace.json".to_owned());
    let rt = jsloop::Runtime::builder().trace().build()?;
    rt.run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = jsloop::spawn(serve(listener));
        start_interval();
        jsloop::set_immediate(|| println!("immediate: the check phase"));
        let sum = jsloop::spawn_blocking(|| (1..=5_000_000u64).sum::<u64>());
        client(addr).await?;
        let echoed = server.await??;
        println!("server: echoed {echoed} bytes");
        println!("worker pool: the sum is {}", sum.await?);
        Ok::<(), io::Error>(())
    })?;
    let trace = rt.take_trace();
    trace.save(&path)?;
    println!(
        "wrote {} trace events to {path}: open it at https://ui.perfetto.dev (Open trace file) or \
         in chrome://tracing",
        trace.len()
    );
    Ok(())
}
