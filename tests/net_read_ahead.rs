//! Stream reads into small buffers: the read-ahead that asks the kernel for
//! more than the caller's buffer holds, keeps the rest for the next reads,
//! and spares the read that would only say `WouldBlock`. Every byte must
//! arrive once and in order, EOF after the last, and no read may wait for
//! an event that already came.

use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt};
use jsloop::net::{TcpListener, TcpStream, UnixStream};
use jsloop::{IoDriver, Runtime};

/// Runs `f` on a fresh thread and fails the test if it takes more than 30 s
/// (a read waiting for an event that already came would hang).
fn within_30s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(Duration::from_secs(30)).expect("the test hung")
}

/// A connected pair of TCP streams on the current loop.
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn reads_of_every_size_get_every_byte_once_and_in_order() {
    within_30s(|| {
        jsloop::block_on(async {
            let (mut reader, mut writer) = tcp_pair().await;
            // Several read-ahead buffers' worth, so the kept bytes run out
            // and refill many times, with small, odd and large reads mixed.
            let sent = pattern(300_000);
            let sending = sent.clone();
            jsloop::spawn(async move {
                for chunk in sending.chunks(10_000) {
                    writer.write_all(chunk).await.unwrap();
                    jsloop::time::sleep(Duration::from_millis(1)).await;
                }
                writer.close().await.unwrap();
            });
            let sizes = [1, 7, 64, 1000, 4095, 4096, 16_384, 20_000, 3];
            let mut received = Vec::new();
            for size in sizes.iter().cycle() {
                let mut buf = vec![0; *size];
                let n = reader.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                received.extend_from_slice(&buf[..n]);
            }
            assert_eq!(received.len(), sent.len());
            assert!(received == sent, "bytes lost, repeated or reordered");
            // EOF stays.
            assert_eq!(reader.read(&mut [0; 8]).await.unwrap(), 0);
        })
    });
}

#[test]
fn bytes_kept_back_come_before_eof_and_before_later_data() {
    within_30s(|| {
        jsloop::block_on(async {
            let (mut reader, mut writer) = tcp_pair().await;
            writer.write_all(b"0123456789").await.unwrap();
            jsloop::time::sleep(Duration::from_millis(20)).await;
            let mut buf = [0; 4];
            // One read takes all ten from the socket and keeps six.
            assert_eq!(reader.read(&mut buf).await.unwrap(), 4);
            assert_eq!(&buf, b"0123");
            // An empty buffer reads nothing, and takes nothing of what is kept.
            assert_eq!(reader.read(&mut []).await.unwrap(), 0);
            // More arrives while six wait: its event must not be lost
            // when the last kept byte is read.
            writer.write_all(b"abcde").await.unwrap();
            jsloop::time::sleep(Duration::from_millis(20)).await;
            // (Where the reads split depends on the driver: io_uring's ring
            // queues both sends as one.)
            let mut rest = Vec::new();
            while rest.len() < 11 {
                let n = reader.read(&mut buf).await.unwrap();
                assert_ne!(n, 0, "EOF before the bytes sent");
                rest.extend_from_slice(&buf[..n]);
            }
            assert_eq!(rest, b"456789abcde");
            // Now the socket was drained with nothing kept: the next read
            // waits for the peer, which sends after a pause, then ends.
            jsloop::spawn(async move {
                jsloop::time::sleep(Duration::from_millis(30)).await;
                writer.write_all(b"xyz").await.unwrap();
                writer.close().await.unwrap();
            });
            assert_eq!(reader.read(&mut buf).await.unwrap(), 3);
            assert_eq!(&buf[..3], b"xyz");
            assert_eq!(reader.read(&mut buf).await.unwrap(), 0);
        })
    });
}

#[test]
fn kept_bytes_of_a_unix_stream_then_a_pause_then_more() {
    within_30s(|| {
        jsloop::block_on(async {
            let (mut reader, mut writer) = UnixStream::pair().unwrap();
            writer.write_all(b"hello world").await.unwrap();
            let mut buf = [0; 5];
            assert_eq!(reader.read(&mut buf).await.unwrap(), 5);
            // The rest was read ahead of a drained socket; once it is taken,
            // the next read waits for the peer's next bytes.
            let mut rest = [0; 6];
            reader.read_exact(&mut rest).await.unwrap();
            assert_eq!(&rest, b" world");
            jsloop::spawn(async move {
                jsloop::time::sleep(Duration::from_millis(30)).await;
                writer.write_all(b"!").await.unwrap();
            });
            assert_eq!(reader.read(&mut buf).await.unwrap(), 1);
            assert_eq!(buf[0], b'!');
        })
    });
}

#[test]
fn bytes_kept_back_are_read_first_on_the_loop_the_socket_moves_to() {
    within_30s(|| {
        let (stream, peer) = jsloop::block_on(async {
            let (mut reader, mut writer) = tcp_pair().await;
            writer.write_all(b"first-second").await.unwrap();
            jsloop::time::sleep(Duration::from_millis(20)).await;
            let mut buf = [0; 6];
            assert_eq!(reader.read(&mut buf).await.unwrap(), 6);
            assert_eq!(&buf, b"first-");
            (reader, writer)
        });
        std::thread::spawn(move || {
            let rt = Runtime::new().unwrap();
            rt.block_on(async move {
                let (mut stream, mut peer) = (stream, peer);
                let mut buf = [0; 6];
                stream.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"second");
                peer.write_all(b"third").await.unwrap();
                peer.close().await.unwrap();
                let mut rest = Vec::new();
                stream.read_to_end(&mut rest).await.unwrap();
                assert_eq!(rest, b"third");
            });
        })
        .join()
        .unwrap();
    });
}

/// Read syscalls this thread has made (Linux's per-thread I/O accounting;
/// `recv` and `recvfrom` are not counted, `read` is).
fn read_syscalls_of_this_thread() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/thread-self/io").ok()?;
    io.lines().find_map(|line| line.strip_prefix("syscr: ")).and_then(|n| n.trim().parse().ok())
}

#[test]
fn an_echo_read_that_fills_its_buffer_costs_one_read_per_message() {
    if read_syscalls_of_this_thread().is_none() {
        eprintln!("skipped: this kernel has no per-thread I/O accounting");
        return;
    }
    const MESSAGES: u64 = 500;
    within_30s(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // The client is a plain thread: only the server's reads are on the
        // loop's thread, the one counted.
        let client = std::thread::spawn(move || {
            let mut socket = std::net::TcpStream::connect(addr).unwrap();
            socket.set_nodelay(true).unwrap();
            let mut buf = [0; 64];
            for i in 0..MESSAGES {
                socket.write_all(&[i as u8; 64]).unwrap();
                socket.read_exact(&mut buf).unwrap();
                assert_eq!(buf, [i as u8; 64]);
            }
        });
        let (socket, _) = listener.accept().unwrap();
        socket.set_nonblocking(true).unwrap();
        // The epoll driver reads the socket itself (io_uring's reads are
        // its ring's).
        let rt = Runtime::builder().io_driver(IoDriver::Epoll).build().unwrap();
        let reads = rt.block_on(async move {
            let mut socket = TcpStream::from_std(socket).unwrap();
            socket.set_nodelay(true).unwrap();
            let before = read_syscalls_of_this_thread().unwrap();
            let mut buf = [0; 64];
            for _ in 0..MESSAGES {
                // Each message fills the buffer exactly: without asking for
                // more, only another read could tell the socket was drained.
                socket.read_exact(&mut buf).await.unwrap();
                socket.write_all(&buf).await.unwrap();
            }
            read_syscalls_of_this_thread().unwrap() - before
        });
        client.join().unwrap();
        // One read per message (two before the read-ahead: the second said
        // `WouldBlock`); a few spare for segments split by the stack.
        assert!(reads >= MESSAGES, "{reads} reads for {MESSAGES} messages");
        assert!(reads <= MESSAGES + MESSAGES / 10, "{reads} reads for {MESSAGES} messages");
    });
}
