//! The HTTP/1.1 hello service the HTTP examples share (not an example).

use std::io;

use futures::{AsyncReadExt, AsyncWriteExt};
use jsloop::net::TcpStream;

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\nHello, world!";

/// Answers each request on the connection with "Hello, world!" (keep-alive)
/// until the client closes it (a reset, as load generators close, counts as
/// closed), calling `on_request` for each.
pub async fn serve_connection(stream: TcpStream, on_request: impl Fn()) -> io::Result<()> {
    match answer_requests(stream, on_request).await {
        Err(error) if error.kind() == io::ErrorKind::ConnectionReset => Ok(()),
        other => other,
    }
}

async fn answer_requests(mut stream: TcpStream, on_request: impl Fn()) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0; 4096];
    loop {
        // Answer every complete request head in the buffer (requests
        // without a body, which is all this server expects).
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.drain(..end + 4);
            stream.write_all(RESPONSE).await?;
            on_request();
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}
