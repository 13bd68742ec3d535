//! A TCP echo server and its client.
//!
//! `cargo run --example echo` starts the server on a free port and runs a
//! client against it. `cargo run --example echo -- server 127.0.0.1:7000`
//! runs only the server (try `nc 127.0.0.1 7000`);
//! `cargo run --example echo -- client 127.0.0.1:7000` only a client.

use std::io;

use futures::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, StreamExt};
use jsloop::net::{TcpListener, TcpStream};

/// Echoes every connection back to itself, each on its own task.
async fn serve(listener: TcpListener) -> io::Result<()> {
    let mut incoming = listener.incoming();
    while let Some(socket) = incoming.next().await {
        let socket = socket?;
        jsloop::spawn(async move {
            let peer = socket.peer_addr();
            let (reader, mut writer) = (&socket, &socket);
            match futures::io::copy(reader, &mut writer).await {
                Ok(bytes) => println!("server: {peer:?} done after {bytes} bytes"),
                Err(error) => println!("server: {peer:?} failed: {error}"),
            }
        });
    }
    Ok(())
}

/// Sends a few lines and prints what comes back.
async fn client(addr: &str) -> io::Result<()> {
    let stream = TcpStream::connect(addr).await?;
    let mut lines = futures::io::BufReader::new(&stream).lines();
    for message in ["hello", "event loop", "bye"] {
        (&stream).write_all(format!("{message}\n").as_bytes()).await?;
        let echoed = lines.next().await.expect("the server answers")?;
        println!("client: sent {message:?}, got {echoed:?}");
    }
    (&stream).close().await?; // half-close: the server's copy ends
    let mut rest = Vec::new();
    (&stream).read_to_end(&mut rest).await?;
    Ok(())
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["server", addr] => jsloop::run(async { serve(TcpListener::bind(addr).await?).await }),
        ["client", addr] => jsloop::block_on(client(addr)),
        [] => jsloop::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?.to_string();
            println!("server: listening on {addr}");
            jsloop::spawn(serve(listener));
            client(&addr).await
        }),
        _ => {
            eprintln!("usage: echo [server|client ADDR]");
            std::process::exit(2);
        }
    }
}
