//! Sockets are `Send + Sync`: moved to another thread or loop they keep
//! working (readiness follows the loop that waits), polled by another
//! executor they are served by their home loop, and a dropped home is a
//! clear error, never a hang.

use std::io;
use std::net::Shutdown;
use std::sync::mpsc;
use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt};
use jsloop::io::Async;
use jsloop::net::{
    ReadHalf, TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream, WriteHalf,
};

fn assert_send_sync<T: Send + Sync>() {}
fn assert_send<T: Send>(_: &T) {}

#[test]
fn sockets_halves_and_their_futures_are_send_and_sync() {
    assert_send_sync::<TcpStream>();
    assert_send_sync::<TcpListener>();
    assert_send_sync::<UdpSocket>();
    assert_send_sync::<UnixStream>();
    assert_send_sync::<UnixListener>();
    assert_send_sync::<UnixDatagram>();
    assert_send_sync::<ReadHalf<TcpStream>>();
    assert_send_sync::<WriteHalf<TcpStream>>();
    assert_send_sync::<Async<std::net::TcpStream>>();
    #[cfg(feature = "hyper")]
    assert_send_sync::<jsloop::io::HyperIo<TcpStream>>();
    jsloop::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert_send(&TcpStream::connect(addr));
        assert_send(&listener.accept());
    });
}

/// Runs `f` on a fresh thread and fails the test if it takes more than 30 s
/// (a hang would otherwise stall the whole test run).
fn within_30s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(Duration::from_secs(30)).expect("the test hung")
}

/// A connected pair made on the current loop: (client, server side).
async fn tcp_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let client = TcpStream::connect(listener.local_addr()?).await?;
    let (server, _) = listener.accept().await?;
    Ok((client, server))
}

/// Reads `len` bytes, or what there is until EOF.
async fn read_len(
    stream: &mut (impl futures::AsyncRead + Unpin),
    len: usize,
) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; len];
    let mut filled = 0;
    while filled < len {
        match stream.read(&mut buf[filled..]).await? {
            0 => break,
            n => filled += n,
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// Reads `len` bytes from `client` on a plain thread with `futures`'
/// executor (no jsloop loop there); returns once the first read is pending,
/// so its wait is registered.
fn read_off_any_loop(
    mut client: TcpStream,
    len: usize,
) -> std::thread::JoinHandle<io::Result<Vec<u8>>> {
    let (polled, was_polled) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        futures::executor::block_on(async move {
            let mut buf = vec![0; len];
            assert!(futures::poll!(client.read(&mut buf)).is_pending());
            polled.send(()).unwrap();
            read_len(&mut client, len).await
        })
    });
    was_polled.recv().unwrap();
    reader
}

#[test]
fn a_stream_made_on_one_loop_works_on_another_and_back() {
    within_30s(|| {
        // Loop A makes the pair and serves an echo; loop B, on another
        // thread, talks through the client; then the client comes back to A.
        jsloop::block_on(async {
            let (client, mut server) = tcp_pair().await?;
            let echo = jsloop::spawn(async move {
                let mut buf = [0; 64];
                loop {
                    let n = server.read(&mut buf).await?;
                    if n == 0 {
                        return io::Result::Ok(());
                    }
                    server.write_all(&buf[..n]).await?;
                }
            });
            let on_b = std::thread::spawn(move || {
                jsloop::block_on(async move {
                    let mut client = client;
                    for round in 0..50u8 {
                        client.write_all(&[round; 10]).await?;
                        assert_eq!(read_len(&mut client, 10).await?, [round; 10]);
                    }
                    io::Result::Ok(client)
                })
            });
            // A keeps serving while B talks; joined off the loop thread so
            // this loop is not blocked.
            let mut client = jsloop::spawn_blocking(move || on_b.join().unwrap()).await??;
            client.write_all(b"home again").await?;
            assert_eq!(read_len(&mut client, 10).await?, b"home again");
            client.shutdown(Shutdown::Write)?;
            echo.await.unwrap()
        })
    })
    .unwrap();
}

#[test]
fn a_socket_moved_with_a_read_pending_takes_its_wait_along() {
    within_30s(|| {
        let (tx, rx) = mpsc::channel();
        // Loop A leaves a poll-style read pending on the socket (its waker
        // stays registered and keeps A alive), then sends the socket away.
        // Once B waits on it, the wait is B's: A ends, and B gets the bytes.
        let a = std::thread::spawn(move || {
            jsloop::run(async move {
                let (mut client, server) = tcp_pair().await.unwrap();
                let mut buf = [0; 8];
                let read = futures::poll!(client.read(&mut buf));
                assert!(read.is_pending());
                tx.send((client, server)).unwrap();
            });
        });
        let (mut client, mut server) = rx.recv().unwrap();
        jsloop::block_on(async move {
            let mut buf = [0; 8];
            assert!(futures::poll!(client.read(&mut buf)).is_pending());
            // A's `run` ends now that no wait of its own is left.
            jsloop::spawn_blocking(move || a.join().unwrap()).await?;
            server.write_all(b"moved").await?;
            assert_eq!(read_len(&mut client, 5).await?, b"moved");
            io::Result::Ok(())
        })
    })
    .unwrap();
}

#[test]
fn a_socket_outlives_its_runtime_on_the_next_loop_and_is_an_error_off_any_loop() {
    within_30s(|| {
        let (a, b) = jsloop::block_on(async { UnixStream::pair() }).unwrap();
        // The runtime that registered the pair is gone. Polled off any loop,
        // there is no poll phase to wait for: a clear error, not a hang.
        let mut buf = [0; 4];
        let error = futures::executor::block_on((&a).read(&mut buf)).unwrap_err();
        assert!(error.to_string().contains("runtime"), "{error}");
        // On a new loop both ends move there and keep working.
        jsloop::block_on(async move {
            (&b).write_all(b"next").await?;
            assert_eq!(read_len(&mut &a, 4).await?, b"next");
            io::Result::Ok(())
        })
    })
    .unwrap();
}

#[test]
fn another_executor_polls_a_socket_its_home_loop_serves() {
    within_30s(|| {
        let rt = jsloop::Runtime::new()?;
        let (client, mut server) = rt.block_on(tcp_pair())?;
        // A plain thread reads with `futures`' executor: the socket stays
        // registered with `rt`, whose poll phase delivers the event, and its
        // wait keeps `rt`'s `run` going until the bytes are in.
        let reader = read_off_any_loop(client, 5);
        rt.run(async move {
            jsloop::time::sleep(Duration::from_millis(20)).await;
            server.write_all(b"hello").await.unwrap();
        });
        assert_eq!(reader.join().unwrap()?, b"hello");
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn a_wait_off_any_loop_is_woken_with_an_error_when_the_home_runtime_drops() {
    within_30s(|| {
        let rt = jsloop::Runtime::new()?;
        let (client, server) = rt.block_on(tcp_pair())?;
        let reader = read_off_any_loop(client, 5);
        drop(rt);
        let error = reader.join().unwrap().unwrap_err();
        assert!(error.to_string().contains("runtime"), "{error}");
        drop(server);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn a_listener_moved_to_another_loop_accepts_there() {
    within_30s(|| {
        let listener = jsloop::block_on(TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let server = std::thread::spawn(move || {
            jsloop::block_on(async move {
                let (mut socket, _) = listener.accept().await?;
                socket.write_all(b"accepted elsewhere").await?;
                io::Result::Ok(())
            })
        });
        jsloop::block_on(async move {
            let mut client = TcpStream::connect(addr).await?;
            let mut text = String::new();
            client.read_to_string(&mut text).await?;
            assert_eq!(text, "accepted elsewhere");
            io::Result::Ok(())
        })?;
        server.join().unwrap()
    })
    .unwrap();
}

#[test]
fn udp_and_unix_datagram_sockets_move_between_loops() {
    within_30s(|| {
        let (udp, peer, (left, right)) = jsloop::block_on(async {
            let udp = UdpSocket::bind("127.0.0.1:0").await?;
            let peer = UdpSocket::bind("127.0.0.1:0").await?;
            io::Result::Ok((udp, peer, UnixDatagram::pair()?))
        })?;
        let udp_addr = udp.local_addr()?;
        let receiver = std::thread::spawn(move || {
            jsloop::block_on(async move {
                let mut buf = [0; 16];
                let (n, _) = udp.recv_from(&mut buf).await?;
                assert_eq!(&buf[..n], b"udp");
                let n = right.recv(&mut buf).await?;
                assert_eq!(&buf[..n], b"unix");
                io::Result::Ok(())
            })
        });
        jsloop::block_on(async move {
            jsloop::time::sleep(Duration::from_millis(20)).await;
            peer.send_to(b"udp", udp_addr).await?;
            left.send(b"unix").await?;
            io::Result::Ok(())
        })?;
        receiver.join().unwrap()
    })
    .unwrap();
}

#[test]
fn ping_pong_between_another_executor_and_the_home_loop_loses_no_edge() {
    // The client is polled on a plain thread while its events are taken
    // on the loop's: an event landing between a `WouldBlock` and the mark
    // it leaves must not be wiped out (the wait would then never end).
    within_30s(|| {
        let rt = jsloop::Runtime::new()?;
        let (client, mut server) = rt.block_on(tcp_pair())?;
        let guard = rt.block_on(async { jsloop::keep_alive() });
        let rounds = 2_000u32;
        let pinger = std::thread::spawn(move || {
            futures::executor::block_on(async move {
                let mut client = client;
                for round in 0..rounds {
                    client.write_all(&round.to_le_bytes()).await?;
                    assert_eq!(read_len(&mut client, 4).await?, round.to_le_bytes());
                }
                drop(guard);
                io::Result::Ok(())
            })
        });
        rt.run(async move {
            let mut buf = [0; 4];
            loop {
                match server.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => server.write_all(&buf[..n]).await.unwrap(),
                }
            }
        });
        pinger.join().unwrap()
    })
    .unwrap();
}
